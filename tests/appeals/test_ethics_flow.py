"""EthicsReviewFlow end to end: parallel scoring, timeouts, the quorum join, the decision capped by the
scores, the requires-changes loop over two versions, immutable earlier versions, and the deploy rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError
from django.utils import timezone
from viewflow.workflow.timers import fire_due_timers

from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.models import AIUseCase, EthicsReview, EthicsReviewVersion, Notification, RubricScore
from accountability.selectors import workflow as task_sel
from accountability.services import ethics as ethics_svc
from accountability.services import ethics_scores as scores_svc
from accountability.services import use_cases as uc_svc
from tests.factories import PlanVersionFactory
from tests.ledger_reads import action_types

from .factories import FAIR, GOOD, TOP, VETO, create_review

pytestmark = pytest.mark.django_db
Status = EthicsReview.Status


def _score(user, review, scores=GOOD, **kwargs):
    return scores_svc.ethics_score_submit(
        actor=user, review=review, conflict_of_interest="none", scores=scores, **kwargs
    )


def _open(review, name):
    return [t for t in task_sel.open_steps(review) if t.flow_task.name == name]


def test_two_versions_through_requires_changes(project, use_case, staff_user, caio_user, board):
    review = create_review(staff_user, use_case, board)
    assert (review.status, review.version) == (Status.IN_PROGRESS, 1)
    assert sorted(t.owner.username for t in _open(review, "score")) == ["board.community", "board.legal", "board.tech"]
    assert Notification.objects.filter(kind="ethics.scoring_open", recipient=board[0]).count() == 1

    _score(board[0], review, FAIR)
    _score(board[1], review, GOOD)
    assert _open(review, "decide") == []  # the join waits for the third member
    _score(board[2], review, FAIR)
    v1 = review.versions.get(version=1)
    assert (v1.scored_count, v1.quorum_met, v1.aggregate_score) == (3, True, Decimal("0.583"))
    assert v1.recommendation == "approve_with_conditions"
    with pytest.raises(InvalidTransition, match="at most 'approve_with_conditions'"):
        ethics_svc.ethics_review_decide(actor=caio_user, review=review, outcome="approve", findings="Fine.")
    ethics_svc.ethics_review_decide(
        actor=caio_user, review=review, outcome="request_changes", findings="Add a disparity analysis."
    )
    review.refresh_from_db()
    assert review.status == Status.REQUIRES_CHANGES
    assert [t.owner for t in _open(review, "revise")] == [staff_user]
    assert Notification.objects.filter(kind="ethics.changes_requested", recipient=staff_user).count() == 1

    ethics_svc.ethics_review_revise(actor=staff_user, review=review, summary="Disparity analysis added.")
    review.refresh_from_db()
    assert (review.status, review.version) == (Status.IN_PROGRESS, 2)
    assert [h.status for h in review.history.order_by("history_id")][-3:] == [
        "requires_changes",
        "revised",
        "in_progress",
    ]
    assert len(_open(review, "score")) == 3
    for member in board:
        _score(member, review, TOP)
    ethics_svc.ethics_review_decide(actor=caio_user, review=review, outcome="approve", findings="All criteria met.")
    review.refresh_from_db()
    assert (review.status, review.decision, review.decided_by) == (Status.COMPLETED, "approve", caio_user)
    assert review.process.status == "DONE"
    assert review.completed_at is not None
    v1.refresh_from_db()
    assert (v1.outcome, v1.closed_at is not None) == ("request_changes", True)
    assert review.versions.get(version=2).aggregate_score == Decimal("1.000")
    assert RubricScore.objects.filter(review=review).count() == 6
    assert action_types(action_type__startswith="ethics.") == ["ethics.create", "ethics.start"] + [
        "ethics.score"
    ] * 3 + [
        "ethics.tally",
        "ethics.decide",
        "ethics.revise",
    ] + ["ethics.score"] * 3 + ["ethics.tally", "ethics.decide"]


def test_earlier_versions_and_scores_are_immutable(project, use_case, staff_user, caio_user, board):
    review = create_review(staff_user, use_case, board)
    for member in board:
        _score(member, review, FAIR)
    ethics_svc.ethics_review_decide(actor=caio_user, review=review, outcome="request_changes", findings="More.")
    v1 = EthicsReviewVersion.objects.get(review=review, version=1)
    v1.findings = "rewritten"
    with pytest.raises(IntegrityError, match="closed"):
        v1.save()
    score = RubricScore.objects.filter(review=review).first()
    score.scores = TOP
    with pytest.raises(IntegrityError):
        score.save()
    with pytest.raises(IntegrityError):
        score.delete()
    assert RubricScore.objects.get(pk=score.pk).scores == FAIR
    # The board cannot score version 1 again while changes are requested.
    with pytest.raises(InvalidTransition):
        _score(board[0], review, TOP)


def test_a_timed_out_member_is_recorded_and_the_round_still_closes(project, use_case, staff_user, caio_user, board):
    start = timezone.now()
    review = create_review(staff_user, use_case, board)
    _score(board[0], review, GOOD)
    _score(board[2], review, GOOD)
    with time_machine.travel(start + dt.timedelta(days=9, hours=23), tick=False):
        assert fire_due_timers() == 0
    with time_machine.travel(start + dt.timedelta(days=10, minutes=1), tick=False):
        assert fire_due_timers() == 1
    missed = RubricScore.objects.get(review=review, member__user=board[1])
    assert missed.disposition == RubricScore.Disposition.MISSED
    version = review.versions.get(version=1)
    assert (version.scored_count, version.quorum_met, version.recommendation) == (2, True, "approve")
    assert Notification.objects.filter(kind="ethics.score_missed", recipient=staff_user).count() == 1
    assert [t.flow_task.name for t in task_sel.open_steps(review)] == ["decide"]
    ethics_svc.ethics_review_decide(actor=caio_user, review=review, outcome="approve", findings="Quorate.")
    assert EthicsReview.objects.get(pk=review.pk).status == Status.COMPLETED


def test_without_quorum_only_changes_can_be_requested(project, use_case, staff_user, caio_user, board):
    review = create_review(staff_user, use_case, board)
    _score(board[0], review, TOP)
    _score(board[1], review, TOP)
    scores_svc.ethics_score_submit(
        actor=board[2], review=review, conflict_of_interest="declared", conflict_details="I advised the vendor."
    )
    version = review.versions.get(version=1)
    assert version.quorum_met is False
    assert version.quorum_reasons == ["no affected-community score"]
    for outcome in ("approve", "approve_with_conditions", "reject"):
        with pytest.raises(InvalidTransition, match="without quorum"):
            ethics_svc.ethics_review_decide(
                actor=caio_user, review=review, outcome=outcome, findings="x", conditions="y"
            )
    ethics_svc.ethics_review_decide(actor=caio_user, review=review, outcome="request_changes", findings="Re-score.")
    assert EthicsReview.objects.get(pk=review.pk).status == Status.REQUIRES_CHANGES


def test_a_veto_caps_the_decision_at_reject(project, use_case, staff_user, caio_user, board):
    review = create_review(staff_user, use_case, board)
    _score(board[0], review, TOP)
    _score(board[1], review, VETO)
    _score(board[2], review, TOP)
    version = review.versions.get(version=1)
    assert version.vetoes == [{"criterion": "fairness", "score": 1, "veto_below": 2}]
    assert version.recommendation == "reject"
    with pytest.raises(InvalidTransition, match="veto"):
        ethics_svc.ethics_review_decide(
            actor=caio_user, review=review, outcome="approve_with_conditions", findings="x", conditions="y"
        )
    ethics_svc.ethics_review_decide(actor=caio_user, review=review, outcome="reject", findings="Disparate impact.")
    review.refresh_from_db()
    assert (review.status, review.decision, review.is_approved) == (Status.COMPLETED, "reject", False)


def test_approval_with_conditions_states_them(project, use_case, staff_user, caio_user, board, ledger_count):
    review = create_review(staff_user, use_case, board)
    for member in board:
        _score(member, review, GOOD)
    entries = ledger_count()
    with pytest.raises(ValidationFailed, match="conditions"):
        ethics_svc.ethics_review_decide(actor=caio_user, review=review, outcome="approve_with_conditions", findings="x")
    assert ledger_count() == entries
    assert review.versions.get(version=1).closed_at is None
    ethics_svc.ethics_review_decide(
        actor=caio_user, review=review, outcome="approve_with_conditions", findings="x", conditions="Monitor."
    )
    assert EthicsReview.objects.get(pk=review.pk).conditions == "Monitor."


def test_a_quorum_rule_may_close_the_round_early(project, use_case, staff_user, caio_user, board):
    review = create_review(staff_user, use_case, board, quorum_rule="small_board")
    _score(board[0], review, GOOD)
    assert len(_open(review, "score")) == 2
    _score(board[1], review, GOOD)
    assert _open(review, "score") == []  # the third scoring task was cancelled
    assert [t.flow_task.name for t in task_sel.open_steps(review)] == ["decide"]
    assert review.process.task_set.filter(flow_task_type="TIMER", status="SCHEDULED").count() == 0
    assert review.versions.get(version=1).scored_count == 2


def test_high_impact_deployment_needs_an_approving_ethics_review(project, use_case, staff_user, caio_user, board):
    PlanVersionFactory(plan__project=project, plan__use_case=use_case, status="active")
    with pytest.raises(InvalidTransition, match="completed ethics review"):
        uc_svc.use_case_change_stage(actor=staff_user, use_case=use_case, stage="deployed")
    rejected = create_review(staff_user, use_case, board)
    for member in board:
        _score(member, rejected, VETO)
    ethics_svc.ethics_review_decide(actor=caio_user, review=rejected, outcome="reject", findings="No.")
    with pytest.raises(InvalidTransition, match="completed ethics review"):
        uc_svc.use_case_change_stage(actor=staff_user, use_case=use_case, stage="deployed")
    approved = create_review(staff_user, use_case, board)
    for member in board:
        _score(member, approved, GOOD)
    ethics_svc.ethics_review_decide(
        actor=caio_user, review=approved, outcome="approve_with_conditions", findings="Ok.", conditions="Monitor."
    )
    uc_svc.use_case_change_stage(actor=staff_user, use_case=use_case, stage="deployed")
    assert AIUseCase.objects.get(pk=use_case.pk).stage == "deployed"


def test_a_high_impact_use_case_cannot_be_created_deployed(project, staff_user):
    with pytest.raises(InvalidTransition):
        uc_svc.use_case_create(
            actor=staff_user,
            project=project,
            name="Straight to production",
            stage="deployed",
            high_impact_determination="high",
            high_impact_bases=["access"],
        )
