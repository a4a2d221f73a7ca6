"""Ethics reviews by interdisciplinary boards (seed 003 goal 4, D319; seed 000): create with a board,
start, score (or recuse), tally, decide, revise. Each step of ``EthicsReviewFlow`` is driven from here.

Separation of duties: the submitter never sits on the board, never scores and never decides their own
review. A round without quorum cannot end in a final decision; the decider requests changes instead.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accountability.actors import history_user, is_system
from accountability.config import policy
from accountability.exceptions import InvalidTransition, NotAllowed, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import AIUseCase, BoardMember, EthicsReview, EthicsReviewVersion
from accountability.permissions import Perm, has_perm, require
from accountability.rules import rubrics
from accountability.selectors import ethics as ethics_sel

from ._common import full_clean, tracked_save
from ._workflow import flows, open_task, run_task
from .notifications import notification_send

Status = EthicsReview.Status
Outcome = EthicsReviewVersion.Outcome


def _url(review: EthicsReview) -> str:
    return f"/portal/ethics-reviews/{review.public_id}/"


def _role_holders(review: EthicsReview, perm: Perm, *, with_submitter: bool = False) -> list:
    users = get_user_model().objects.filter(icdev_memberships__project=review.project, is_active=True).distinct()
    return [
        u for u in users if has_perm(u, review.project, perm) and (with_submitter or u.pk != review.submitted_by_id)
    ]


def _locked(review: EthicsReview) -> EthicsReview:
    return EthicsReview.objects.select_for_update(of=("self",)).select_related("project", "use_case").get(pk=review.pk)


def _text(value, field: str, *, required: bool = True) -> str:
    if value is not None and not isinstance(value, str):
        raise ValidationFailed({field: ["Must be text."]})
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed({field: ["This field is required."]})
    return text


# --- board --------------------------------------------------------------------------------------------


def _member(review: EthicsReview, spec: dict, actor) -> BoardMember:
    """Validate one board seat: an active user with the board role, never the submitter."""
    user = spec.get("user")
    errors: dict[str, list[str]] = {}
    if not isinstance(user, get_user_model()) or not user.is_active:
        errors["user"] = ["Choose an active user."]
    elif user.pk == review.submitted_by_id:
        errors["user"] = ["The submitter never sits on the board of their own review."]
    elif not has_perm(user, review.project, Perm.ETHICS_SCORE):
        errors["user"] = [f"{user.get_username()} does not hold the ethics board role in {review.project.key}."]
    elif review.board.filter(user=user).exists():
        errors["user"] = [f"{user.get_username()} is already on the board."]
    stakeholder = spec.get("stakeholder")
    if stakeholder is not None and stakeholder.use_case_id != review.use_case_id:
        errors["stakeholder"] = ["The stakeholder belongs to another use case."]
    if errors:
        raise ValidationFailed(errors)
    member = BoardMember(
        review=review,
        user=user,
        discipline=spec.get("discipline") or "",
        party=spec.get("party") or "",
        stakeholder=stakeholder,
        added_by=history_user(actor),
    )
    full_clean(member)
    return member


def _add_members(review: EthicsReview, board: list[dict], actor) -> list[BoardMember]:
    if not isinstance(board, list):
        raise ValidationFailed({"board": ["Give a list of board members."]})
    members = []
    for spec in board:
        member = _member(review, spec, actor)
        tracked_save(member, actor=actor, reason="board member added")
        members.append(member)
    return members


def _check_trigger(review_type: str, incident, use_case: AIUseCase) -> None:
    """An incident-triggered review names its incident, which must concern the reviewed use case."""
    if review_type == EthicsReview.ReviewType.INCIDENT_TRIGGERED:
        if incident is None:
            raise ValidationFailed({"incident": ["An incident-triggered review names the incident that triggered it."]})
        if incident.project_id != use_case.project_id:
            raise ValidationFailed({"incident": ["The incident belongs to another project."]})
        if not incident.use_cases.filter(pk=use_case.pk).exists():
            raise ValidationFailed({"incident": [f"{incident.public_id} does not affect {use_case.public_id}."]})
    elif incident is not None:
        raise ValidationFailed({"incident": ["Only an incident-triggered review links an incident."]})


@transaction.atomic
def ethics_review_create(
    *,
    actor,
    use_case: AIUseCase,
    summary: str,
    board: list[dict],
    title: str = "",
    review_type: str = EthicsReview.ReviewType.INITIAL,
    incident=None,
    material_url: str = "",
    rubric_key: str = "",
    rubric_version: int | None = None,
    quorum_rule: str = "",
    start: bool = False,
) -> EthicsReview:
    """Create a pending ethics review of a use case with its board (and start it when ``start``)."""
    require(actor, use_case.project, Perm.ETHICS_MANAGE)
    if is_system(actor):
        raise NotAllowed("A person submits a use case for ethics review (they revise it later).")
    _check_trigger(review_type, incident, use_case)
    rubric = rubrics.rubric_snapshot(rubric_key, rubric_version)
    if rubric is None:
        raise ValidationFailed({"rubric_key": [f"No rubric {rubric_key!r} in the policy."]})
    rule = rubrics.quorum_snapshot(quorum_rule)
    if rule is None:
        raise ValidationFailed({"quorum_rule": [f"No quorum rule {quorum_rule!r} in the policy."]})
    default_title = f"{review_type.replace('_', '-')} review of {use_case.name}"[:200]
    review = EthicsReview(
        project=use_case.project,
        use_case=use_case,
        review_type=review_type,
        incident=incident,
        title=_text(title, "title", required=False) or default_title,
        submitted_by=actor,
        rubric_key=rubric["key"],
        rubric_version=rubric["version"],
        rubric=rubric,
        quorum_rule=rule,
        score_timeout_days=policy()["ethics"]["score_timeout_days"],
    )
    full_clean(review)
    tracked_save(review, actor=actor, reason="ethics review created")
    version = EthicsReviewVersion(
        review=review, version=1, summary=_text(summary, "summary"), material_url=material_url, submitted_by=actor
    )
    full_clean(version)
    tracked_save(version, actor=actor, reason="version 1 submitted")
    members = _add_members(review, board, actor)
    record_governance(
        actor=actor,
        project=review.project,
        action_type="ethics.create",
        description=f"{review.public_id} ({review.review_type}) created for {use_case.public_id}",
        subject=review,
        changes={
            "use_case": use_case.public_id,
            "review_type": review.review_type,
            "incident": incident.public_id if incident else None,
            "rubric": f"{rubric['key']} v{rubric['version']}",
            "quorum_rule": rule["name"],
            "board": [{"user": m.user.get_username(), "discipline": m.discipline, "party": m.party} for m in members],
        },
    )
    if start:
        ethics_review_start(actor=actor, review=review)
        review.refresh_from_db()
    return review


@transaction.atomic
def ethics_review_add_member(
    *, actor, review: EthicsReview, user, discipline: str, party: str, stakeholder=None
) -> BoardMember:
    """Add a member to the board of a pending review."""
    require(actor, review.project, Perm.ETHICS_MANAGE)
    review = _locked(review)
    if review.status != Status.PENDING:
        raise InvalidTransition(f"{review.public_id} has started; its board is fixed.")
    (member,) = _add_members(
        review, [{"user": user, "discipline": discipline, "party": party, "stakeholder": stakeholder}], actor
    )
    record_governance(
        actor=actor,
        project=review.project,
        action_type="ethics.add_member",
        description=f"{user.get_username()} joined the board of {review.public_id} ({discipline})",
        subject=review,
        changes={"user": user.get_username(), "discipline": discipline, "party": party},
    )
    return member


@transaction.atomic
def ethics_review_start(*, actor, review: EthicsReview) -> EthicsReview:
    """Start a pending review: its board scores version 1 in parallel."""
    require(actor, review.project, Perm.ETHICS_MANAGE)
    review = _locked(review)
    if review.status != Status.PENDING:
        raise InvalidTransition(f"{review.public_id} has already started.")
    board = ethics_sel.board_as_data(review)
    if not board:
        raise ValidationFailed({"board": ["Add at least one board member before starting."]})
    unreachable = rubrics.quorum_feasible(review.quorum_rule, board)
    if unreachable:
        raise ValidationFailed({"board": [f"This board can never reach the quorum: {'; '.join(unreachable)}."]})
    record_governance(
        actor=actor,
        project=review.project,
        action_type="ethics.start",
        description=f"{review.public_id} started: the board scores version {review.version}",
        subject=review,
        changes={"status": [Status.PENDING, Status.IN_PROGRESS], "board_size": len(board)},
    )
    flows().EthicsReviewFlow.start.run(review=review)
    review.refresh_from_db()
    return review


@transaction.atomic
def ethics_review_open_round(*, actor, review: EthicsReview) -> EthicsReview:
    """Open scoring of the current version (the flow, after start or revision) and tell the board."""
    if not is_system(actor):
        raise NotAllowed("Rounds open from the review's process.")
    review = _locked(review)
    if review.status not in (Status.PENDING, Status.REVISED):
        raise InvalidTransition(f"{review.public_id} is {review.status}; no round can open.")
    now = timezone.now()
    version = ethics_sel.current_version(review)
    version.opened_at = now
    tracked_save(version, actor=actor, reason="scoring round opened")
    review.status = Status.IN_PROGRESS
    review.started_at = review.started_at or now
    tracked_save(review, actor=actor, reason=f"scoring of version {review.version} opened")
    notification_send(
        recipients=[m.user for m in ethics_sel.board_list(review)],
        kind="ethics.scoring_open",
        project=review.project,
        subject=f"Please score {review.public_id} version {review.version}",
        body=f"Due within {review.score_timeout_days} days. Declare any conflict of interest first.",
        url=_url(review) + "score/",
        dedupe_key=f"ethics.scoring_open:{review.pk}:{review.version}",
    )
    return review


# --- decision and revision ----------------------------------------------------------------------------


def _check_outcome(version: EthicsReviewVersion, outcome: str, conditions: str) -> None:
    if outcome not in Outcome.values:
        raise ValidationFailed({"outcome": [f"Must be one of: {', '.join(Outcome.values)}."]})
    if outcome == Outcome.REQUEST_CHANGES:
        return
    if not version.quorum_met:
        raise InvalidTransition(
            "The round ended without quorum (" + "; ".join(version.quorum_reasons) + "): request changes for a "
            "new round instead of a final decision."
        )
    if version.recommendation and rubrics.DECISION_RANK[outcome] > rubrics.DECISION_RANK[version.recommendation]:
        why = "a veto criterion was triggered" if version.vetoes else f"the aggregate is {version.aggregate_score}"
        raise InvalidTransition(f"The scores allow at most '{version.recommendation}' ({why}).")
    if outcome == Outcome.APPROVE_WITH_CONDITIONS and not conditions:
        raise ValidationFailed({"conditions": ["State the conditions of the approval."]})


@transaction.atomic
def ethics_review_decide(
    *, actor, review: EthicsReview, outcome: str, findings: str, recommendations: str = "", conditions: str = ""
) -> EthicsReview:
    """Decide on the tallied version: approve, approve with conditions, reject, or request changes."""
    require(actor, review.project, Perm.ETHICS_DECIDE)
    if getattr(actor, "pk", None) == review.submitted_by_id:
        raise NotAllowed("The submitter does not decide their own review.")
    if review.status != Status.IN_PROGRESS:
        raise InvalidTransition(f"{review.public_id} is {review.get_status_display().lower()}; nothing to decide.")
    findings = _text(findings, "findings")
    recommendations = _text(recommendations, "recommendations", required=False)
    conditions = _text(conditions, "conditions", required=False)
    task = open_task(review.process, flows().EthicsReviewFlow.decide, what="decision (the round is still open)")
    with run_task(task, actor):
        review = _locked(review)
        version = ethics_sel.current_version(review)
        if version.tallied_at is None or version.closed_at is not None:
            raise InvalidTransition(f"{review.public_id} version {version.version} is not ready for a decision.")
        _check_outcome(version, outcome, conditions)
        now = timezone.now()
        version.outcome, version.findings = outcome, findings
        version.recommendations, version.conditions = recommendations, conditions
        version.decided_by, version.closed_at = history_user(actor), now
        tracked_save(version, actor=actor, reason=f"decided: {outcome}")
        before = review.status
        review.findings, review.recommendations, review.conditions = findings, recommendations, conditions
        review.decided_by = history_user(actor)
        if outcome == Outcome.REQUEST_CHANGES:
            review.status = Status.REQUIRES_CHANGES
        else:
            review.status, review.decision, review.completed_at = Status.COMPLETED, outcome, now
        tracked_save(review, actor=actor, reason=f"decision: {outcome}")
        record_governance(
            actor=actor,
            project=review.project,
            action_type="ethics.decide",
            description=f"{review.public_id} version {version.version}: {version.get_outcome_display()}",
            subject=review,
            changes={
                "status": [before, review.status],
                "version": version.version,
                "outcome": outcome,
                "aggregate": str(version.aggregate_score) if version.aggregate_score is not None else None,
                "recommendation": version.recommendation,
                "conditions": conditions,
            },
            rationale=findings,
        )
    notification_send(
        recipients=[review.submitted_by],
        kind="ethics.changes_requested" if outcome == Outcome.REQUEST_CHANGES else "ethics.completed",
        project=review.project,
        subject=f"{review.public_id}: {version.get_outcome_display()}",
        body=findings,
        url=_url(review),
    )
    return review


@transaction.atomic
def ethics_review_revise(*, actor, review: EthicsReview, summary: str, material_url: str = "") -> EthicsReview:
    """Submit version n+1 after changes were requested (the submitter); the board scores it anew."""
    review = ethics_sel.require_visible(actor, review)
    if getattr(actor, "pk", None) != review.submitted_by_id:
        raise NotAllowed("Only the submitter revises a review.")
    if review.status != Status.REQUIRES_CHANGES:
        raise InvalidTransition(f"{review.public_id} is {review.get_status_display().lower()}; no revision is due.")
    summary = _text(summary, "summary")
    task = open_task(review.process, flows().EthicsReviewFlow.revise, owner=actor, what="revision")
    with run_task(task, actor):
        review = _locked(review)
        version = EthicsReviewVersion(
            review=review,
            version=review.version + 1,
            summary=summary,
            material_url=material_url or "",
            submitted_by=actor,
        )
        full_clean(version)
        tracked_save(version, actor=actor, reason=f"version {version.version} submitted")
        review.version, review.status = version.version, Status.REVISED
        tracked_save(review, actor=actor, reason=f"revised to version {version.version}")
        record_governance(
            actor=actor,
            project=review.project,
            action_type="ethics.revise",
            description=f"{review.public_id} revised to version {version.version}",
            subject=review,
            changes={"status": [Status.REQUIRES_CHANGES, Status.REVISED], "version": version.version},
        )
    review.refresh_from_db()
    return review
