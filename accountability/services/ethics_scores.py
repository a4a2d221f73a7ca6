"""Scoring an ethics review: a board member's rubric scores or recusal, a missed deadline recorded by the
flow's timer, and the tally of a closed round (weighted aggregate, vetoes, quorum)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accountability.actors import SystemActor, actor_label, is_system
from accountability.exceptions import InvalidTransition, NotAllowed, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import EthicsReview, EthicsReviewVersion, RubricScore
from accountability.permissions import Perm
from accountability.rules import rubrics
from accountability.selectors import ethics as ethics_sel

from ._common import full_clean, tracked_save
from ._workflow import flows, open_task, run_task
from .ethics import Status, _locked, _role_holders, _text, _url
from .notifications import notification_send

TIMEOUT_ACTOR = SystemActor("workflow:ethics-timeout")


@transaction.atomic
def ethics_score_submit(
    *,
    actor,
    review: EthicsReview,
    conflict_of_interest: str,
    scores: dict | None = None,
    comments: str = "",
    conflict_details: str = "",
) -> RubricScore:
    """Score the current version as a board member, or recuse with a declared conflict of interest."""
    review = ethics_sel.require_visible(actor, review)
    member = review.board.filter(user_id=getattr(actor, "pk", None)).first()
    if member is None:
        raise NotAllowed("Only members of this review's board score it.")
    if actor.pk == review.submitted_by_id:
        raise NotAllowed("The submitter never scores their own review.")
    if review.status != Status.IN_PROGRESS:
        raise InvalidTransition(f"{review.public_id} is {review.get_status_display().lower()}; it takes no scores.")
    details = _text(conflict_details, "conflict_details", required=False)
    if conflict_of_interest == RubricScore.Conflict.DECLARED:
        if not details:
            raise ValidationFailed({"conflict_details": ["Describe the conflict of interest."]})
        if scores:
            raise ValidationFailed({"scores": ["A member with a declared conflict recuses and gives no scores."]})
        disposition, scores, weighted = RubricScore.Disposition.RECUSED, {}, None
    elif conflict_of_interest == RubricScore.Conflict.NONE:
        problems = rubrics.score_errors(review.rubric, scores if scores is not None else {})
        if problems:
            raise ValidationFailed({"scores": problems})
        disposition = RubricScore.Disposition.SCORED
        weighted = rubrics.weighted_score(review.rubric, scores)
    else:
        raise ValidationFailed({"conflict_of_interest": ["Declare 'none' or 'declared'."]})
    node = flows().EthicsReviewFlow.score
    task = open_task(review.process, node, owner=actor, what="scoring task")
    with run_task(task, actor):
        review = _locked(review)
        version = ethics_sel.current_version(review)
        if task.data.get("version") != version.version or version.closed_at is not None:
            raise InvalidTransition("This scoring task belongs to an earlier version.")
        score = RubricScore(
            review=review,
            version=version,
            member=member,
            reviewer=actor,
            disposition=disposition,
            scores=scores,
            weighted_score=weighted,
            comments=_text(comments, "comments", required=False),
            conflict_of_interest=conflict_of_interest,
            conflict_details=details,
        )
        full_clean(score)
        tracked_save(score, actor=actor, reason=f"rubric {disposition}")
        record_governance(
            actor=actor,
            project=review.project,
            action_type="ethics.score",
            description=f"{actor_label(actor)} {disposition} {review.public_id} version {version.version}",
            subject=review,
            changes={
                "version": version.version,
                "disposition": disposition,
                "scores": scores,
                "weighted_score": str(weighted) if weighted is not None else None,
                "conflict_of_interest": conflict_of_interest,
            },
        )
    return score


@transaction.atomic
def ethics_score_record_missed(*, actor, review: EthicsReview, member_id: int, version: int) -> RubricScore | None:
    """Record that a member's scoring task timed out (the flow's timer); idempotent."""
    if not is_system(actor):
        raise NotAllowed("Missed deadlines are recorded by the review's process.")
    review = _locked(review)
    target = review.versions.get(version=version)
    member = review.board.get(pk=member_id)
    if RubricScore.objects.filter(version=target, member=member).exists():
        return None
    score = RubricScore(
        review=review, version=target, member=member, reviewer=member.user, disposition=RubricScore.Disposition.MISSED
    )
    tracked_save(score, actor=actor, reason="scoring deadline missed")
    record_governance(
        actor=actor,
        project=review.project,
        action_type="ethics.score_missed",
        description=f"{member.user.get_username()} did not score {review.public_id} version {version} in time",
        subject=review,
        changes={"version": version, "member": member.user.get_username()},
    )
    notification_send(
        recipients=_role_holders(review, Perm.ETHICS_MANAGE, with_submitter=True),
        kind="ethics.score_missed",
        project=review.project,
        subject=f"{member.user.get_username()} missed the scoring deadline of {review.public_id}",
        url=_url(review),
    )
    return score


@transaction.atomic
def ethics_review_tally(*, actor, review: EthicsReview) -> EthicsReviewVersion:
    """Aggregate the closed round (weighted scores, vetoes, quorum) onto the version (the flow's join)."""
    if not is_system(actor):
        raise NotAllowed("Rounds are tallied by the review's process.")
    review = _locked(review)
    version = ethics_sel.current_version(review)
    result = rubrics.tally(
        review.rubric, review.quorum_rule, ethics_sel.board_as_data(review), ethics_sel.round_results(review)
    )
    version.tallied_at = timezone.now()
    version.scored_count = result.scored
    version.quorum_met = result.quorum_met
    version.quorum_reasons = result.quorum_reasons
    version.aggregate_score = result.aggregate
    version.vetoes = result.vetoes
    version.recommendation = result.recommendation
    tracked_save(version, actor=actor, reason="round tallied")
    record_governance(
        actor=actor,
        project=review.project,
        action_type="ethics.tally",
        description=f"{review.public_id} version {version.version} tallied"
        + ("" if result.quorum_met else " without quorum"),
        subject=review,
        changes={
            "version": version.version,
            "scored": result.scored,
            "recused": result.recused,
            "missed": result.missed,
            "quorum_met": result.quorum_met,
            "aggregate": str(result.aggregate) if result.aggregate is not None else None,
            "vetoes": result.vetoes,
            "recommendation": result.recommendation,
        },
    )
    notification_send(
        recipients=_role_holders(review, Perm.ETHICS_DECIDE),
        kind="ethics.ready_for_decision",
        project=review.project,
        subject=f"{review.public_id} version {version.version} is ready for a decision",
        url=_url(review),
        dedupe_key=f"ethics.ready:{review.pk}:{version.version}",
    )
    return version
