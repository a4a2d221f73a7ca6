"""Reads of ethics reviews, their boards, versions and scores. Board members and the submitter see the
reviews they take part in; staff, the CAIO, board-role members and auditors see their projects' reviews.
While a round is open, a board member sees only their own score (independent scoring)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accountability.actors import is_system
from accountability.exceptions import NotFound
from accountability.models import AIUseCase, BoardMember, EthicsReview, EthicsReviewVersion, Project, RubricScore
from accountability.permissions import Perm, has_perm, project_ids_with
from accountability.rules.rubrics import quorum_check

from ._scope import get_by_public_id


def ethics_review_list(actor, project: Project | None = None, use_case: AIUseCase | None = None) -> QuerySet:
    """Ethics reviews the actor may read."""
    qs = EthicsReview.objects.select_related("project", "use_case", "submitted_by", "decided_by")
    if project is not None:
        qs = qs.filter(project=project)
    if use_case is not None:
        qs = qs.filter(use_case=use_case)
    ids = project_ids_with(actor, Perm.ETHICS_VIEW)
    if ids is None:
        return qs
    if actor is None or is_system(actor) or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return qs.none()
    return qs.filter(Q(project__in=ids) | Q(board__user=actor) | Q(submitted_by=actor)).distinct()


def ethics_review_get(actor, public_id: str, project: Project | None = None) -> EthicsReview:
    """One visible review by its public id (``ETH-00001``)."""
    return get_by_public_id(EthicsReview, ethics_review_list(actor, project), public_id)


def require_visible(actor, review: EthicsReview) -> EthicsReview:
    """Re-read ``review`` through the actor's scope; NotFound otherwise."""
    try:
        return ethics_review_list(actor).get(pk=review.pk)
    except EthicsReview.DoesNotExist as exc:
        raise NotFound(f"No ethics review {review.public_id!r}.") from exc


def board_list(review: EthicsReview) -> QuerySet[BoardMember]:
    """The review's board (call after a visibility check)."""
    return review.board.select_related("user", "stakeholder").order_by("id")


def version_list(actor, review: EthicsReview) -> QuerySet[EthicsReviewVersion]:
    """Every version of a visible review, oldest first."""
    require_visible(actor, review)
    return review.versions.select_related("submitted_by", "decided_by").order_by("version")


def score_list(actor, review: EthicsReview) -> QuerySet[RubricScore]:
    """Scores of a visible review: all of closed versions; of the open version, all for deciders and
    managers, only their own for board members."""
    require_visible(actor, review)
    qs = review.scores.select_related("version", "member", "reviewer").order_by("version__version", "member_id")
    if has_perm(actor, review.project, Perm.ETHICS_DECIDE) or has_perm(actor, review.project, Perm.HISTORY_VIEW):
        return qs
    return qs.filter(Q(version__closed_at__isnull=False) | Q(reviewer=actor))


def is_board_member(user, review: EthicsReview) -> bool:
    return review.board.filter(user_id=getattr(user, "pk", None)).exists()


def current_version(review: EthicsReview) -> EthicsReviewVersion:
    return review.versions.get(version=review.version)


def members_to_score(review: EthicsReview) -> list[BoardMember]:
    """Board members without a result for the current version."""
    done = RubricScore.objects.filter(version__review=review, version__version=review.version).values("member_id")
    return list(board_list(review).exclude(pk__in=done))


def round_results(review: EthicsReview) -> list[dict]:
    """The current version's results as plain data for the tally."""
    return [
        {"disposition": s.disposition, "discipline": s.member.discipline, "scores": s.scores}
        for s in RubricScore.objects.filter(version__review=review, version__version=review.version).select_related(
            "member"
        )
    ]


def board_as_data(review: EthicsReview) -> list[dict]:
    return [{"discipline": m.discipline} for m in board_list(review)]


def round_can_close_early(review: EthicsReview) -> bool:
    """Whether a round under a ``wait_for: quorum`` rule may close before every member has answered."""
    if review.quorum_rule.get("wait_for") != "quorum":
        return False
    scored = [r["discipline"] for r in round_results(review) if r["disposition"] == RubricScore.Disposition.SCORED]
    return not quorum_check(review.quorum_rule, board_as_data(review), scored)


def approved_review_exists(use_case: AIUseCase) -> bool:
    """Whether the use case has a completed ethics review that approved it (with or without conditions)."""
    return EthicsReview.objects.filter(
        use_case=use_case,
        status=EthicsReview.Status.COMPLETED,
        decision__in=[EthicsReview.Decision.APPROVE, EthicsReview.Decision.APPROVE_WITH_CONDITIONS],
    ).exists()
