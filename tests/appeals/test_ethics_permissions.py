"""Who may do what with an ethics review; board validation; the submitter never scores or decides;
bad scores write nothing; illegal transitions are refused."""

from __future__ import annotations

import pytest

from accountability.exceptions import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from accountability.models import EthicsReview, Membership, RubricScore
from accountability.selectors import ethics as ethics_sel
from accountability.services import ethics as ethics_svc
from accountability.services import ethics_scores as scores_svc
from tests.factories import StakeholderFactory

from .conftest import steps
from .factories import GOOD, TOP, board_spec, create_review, member

pytestmark = pytest.mark.django_db


def _state(review):
    review = EthicsReview.objects.get(pk=review.pk)
    return review.status, review.version, review.board.count(), RubricScore.objects.count(), steps(review)


def _denied(call, review, ledger_count, error, match=None):
    before, entries = _state(review), ledger_count()
    with pytest.raises(error, match=match):
        call()
    assert _state(review) == before
    assert ledger_count() == entries


@pytest.fixture
def review(project, use_case, staff_user, board):
    return create_review(staff_user, use_case, board)


@pytest.mark.parametrize(
    ("role", "error"),
    [(r, NotAllowed) for r in ["reviewer", "ethics_board", "incident_responder", "auditor", "appellant"]]
    + [("outsider", NotFound)],
)
def test_only_staff_and_the_caio_create_reviews(persona, role, error, use_case, board, ledger_count):
    entries = ledger_count()
    with pytest.raises(error):
        create_review(persona(role), use_case, board)
    assert (EthicsReview.objects.count(), ledger_count()) == (0, entries)


def test_the_caio_creates_a_review(use_case, caio_user, board):
    assert create_review(caio_user, use_case, board).submitted_by == caio_user


@pytest.mark.parametrize("seat", ["submitter", "no_board_role", "other_project", "twice"])
def test_board_seats_are_validated(seat, project, use_case, staff_user, reviewer_user, outsider, board, ledger_count):
    users = {
        "submitter": [staff_user, *board],
        "no_board_role": [reviewer_user, *board],
        "other_project": [outsider, *board],
        "twice": [board[0], *board],
    }[seat]
    spec = board_spec(*users, disciplines=["legal", "legal", "technical", "affected_community"])
    entries = ledger_count()
    with pytest.raises(ValidationFailed):
        ethics_svc.ethics_review_create(actor=staff_user, use_case=use_case, summary="s", board=spec, start=True)
    assert (EthicsReview.objects.count(), ledger_count()) == (0, entries)


def test_a_stakeholder_seat_belongs_to_the_reviewed_use_case(project, use_case, staff_user, board, other_use_case):
    spec = board_spec(*board)
    spec[0]["stakeholder"] = StakeholderFactory(use_case=other_use_case)
    with pytest.raises(ValidationFailed, match="another use case"):
        ethics_svc.ethics_review_create(actor=staff_user, use_case=use_case, summary="s", board=spec)
    spec[0]["stakeholder"] = StakeholderFactory(use_case=use_case)
    review = ethics_svc.ethics_review_create(actor=staff_user, use_case=use_case, summary="s", board=spec)
    assert review.board.get(user=board[0]).stakeholder == spec[0]["stakeholder"]


def test_a_board_that_can_never_reach_quorum_does_not_start(use_case, staff_user, board, ledger_count):
    review = ethics_svc.ethics_review_create(  # no affected-community seat
        actor=staff_user, use_case=use_case, summary="s", board=board_spec(*board[:2], disciplines=["legal", "domain"])
    )
    assert review.status == EthicsReview.Status.PENDING
    _denied(
        lambda: ethics_svc.ethics_review_start(actor=staff_user, review=review),
        review,
        ledger_count,
        ValidationFailed,
        "never reach the quorum",
    )
    community = member(use_case.project, "community2", Membership.Role.ETHICS_BOARD)
    ethics_svc.ethics_review_add_member(
        actor=staff_user, review=review, user=community, discipline="affected_community", party="affected_community"
    )
    ethics_svc.ethics_review_start(actor=staff_user, review=review)
    assert EthicsReview.objects.get(pk=review.pk).status == EthicsReview.Status.IN_PROGRESS


def test_a_started_review_keeps_its_board_and_does_not_start_twice(review, staff_user, board_user, ledger_count):
    _denied(
        lambda: ethics_svc.ethics_review_add_member(
            actor=staff_user, review=review, user=board_user, discipline="privacy", party="independent"
        ),
        review,
        ledger_count,
        InvalidTransition,
    )
    _denied(
        lambda: ethics_svc.ethics_review_start(actor=staff_user, review=review), review, ledger_count, InvalidTransition
    )


@pytest.mark.parametrize(
    ("who", "error"),
    [("board_user", NotAllowed), ("staff_user", NotAllowed), ("outsider", NotFound), ("appellant_user", NotFound)],
)
def test_only_board_members_score(request, who, error, review, ledger_count):
    actor = request.getfixturevalue(who)
    _denied(
        lambda: scores_svc.ethics_score_submit(actor=actor, review=review, conflict_of_interest="none", scores=GOOD),
        review,
        ledger_count,
        error,
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"conflict_of_interest": "none", "scores": {**GOOD, "fairness": 9}}, "scores"),
        ({"conflict_of_interest": "none", "scores": {"fairness": 3}}, "scores"),
        ({"conflict_of_interest": "none"}, "scores"),
        ({"conflict_of_interest": "declared"}, "conflict_details"),
        ({"conflict_of_interest": "declared", "conflict_details": "Vendor adviser", "scores": GOOD}, "scores"),
        ({"conflict_of_interest": "maybe", "scores": GOOD}, "conflict_of_interest"),
    ],
)
def test_invalid_scores_write_nothing(kwargs, field, review, board, ledger_count):
    before, entries = _state(review), ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        scores_svc.ethics_score_submit(actor=board[0], review=review, **kwargs)
    assert field in exc.value.errors
    assert (_state(review), ledger_count()) == (before, entries)


def test_a_member_scores_once_per_version(review, board, ledger_count):
    scores_svc.ethics_score_submit(actor=board[0], review=review, conflict_of_interest="none", scores=GOOD)
    _denied(
        lambda: scores_svc.ethics_score_submit(actor=board[0], review=review, conflict_of_interest="none", scores=TOP),
        review,
        ledger_count,
        InvalidTransition,
    )


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("staff_user", NotAllowed),  # the submitter
        ("board_user", NotAllowed),
        ("auditor_user", NotAllowed),
        ("reviewer_user", NotAllowed),
        ("outsider", NotFound),
    ],
)
def test_deciders_hold_the_role_and_are_not_the_submitter(request, who, error, review, board, ledger_count):
    for user in board:
        scores_svc.ethics_score_submit(actor=user, review=review, conflict_of_interest="none", scores=GOOD)
    actor = request.getfixturevalue(who)
    _denied(
        lambda: ethics_svc.ethics_review_decide(actor=actor, review=review, outcome="reject", findings="x"),
        review,
        ledger_count,
        error,
    )


def test_another_coordinator_may_decide(review, board, staff_user2):
    for user in board:
        scores_svc.ethics_score_submit(actor=user, review=review, conflict_of_interest="none", scores=GOOD)
    ethics_svc.ethics_review_decide(actor=staff_user2, review=review, outcome="reject", findings="Not yet.")
    assert EthicsReview.objects.get(pk=review.pk).decision == "reject"


def test_no_decision_while_the_round_is_open_and_no_revision_before_changes(
    review, caio_user, staff_user, ledger_count
):
    _denied(
        lambda: ethics_svc.ethics_review_decide(
            actor=caio_user, review=review, outcome="request_changes", findings="x"
        ),
        review,
        ledger_count,
        InvalidTransition,
    )
    _denied(
        lambda: ethics_svc.ethics_review_revise(actor=staff_user, review=review, summary="v2"),
        review,
        ledger_count,
        InvalidTransition,
    )


def test_only_the_submitter_revises(review, board, caio_user, ledger_count):
    for user in board:
        scores_svc.ethics_score_submit(actor=user, review=review, conflict_of_interest="none", scores=GOOD)
    ethics_svc.ethics_review_decide(actor=caio_user, review=review, outcome="request_changes", findings="More.")
    _denied(
        lambda: ethics_svc.ethics_review_revise(actor=caio_user, review=review, summary="v2"),
        review,
        ledger_count,
        NotAllowed,
    )


def test_readers_and_independent_scoring(review, board, auditor_user, appellant_user, outsider, caio_user):
    assert set(ethics_sel.ethics_review_list(board[0])) == {review}
    assert set(ethics_sel.ethics_review_list(auditor_user)) == {review}
    assert set(ethics_sel.ethics_review_list(appellant_user)) == set()
    assert set(ethics_sel.ethics_review_list(outsider)) == set()
    scores_svc.ethics_score_submit(actor=board[0], review=review, conflict_of_interest="none", scores=GOOD)
    scores_svc.ethics_score_submit(actor=board[1], review=review, conflict_of_interest="none", scores=TOP)
    assert [s.reviewer for s in ethics_sel.score_list(board[0], review)] == [board[0]]
    assert len(ethics_sel.score_list(caio_user, review)) == 2
    assert len(ethics_sel.score_list(auditor_user, review)) == 2
