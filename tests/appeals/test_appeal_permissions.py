"""Who may do what with an appeal: every role, another project's user, the appellant; each denial changes
nothing and writes no ledger entry. Separation of duties and illegal transitions."""

from __future__ import annotations

import pytest

from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from accountability.models import Appeal, Membership
from accountability.selectors import appeals as appeal_sel
from accountability.services import appeals as appeal_svc
from tests.factories import MembershipFactory

from .conftest import steps
from .factories import member, new_trace_id, submit_appeal

pytestmark = pytest.mark.django_db
Status = Appeal.Status
DENIED_MEMBERS = ["caio", "reviewer", "ethics_board", "incident_responder", "auditor", "appellant"]


def _snapshot(appeal):
    appeal = Appeal.objects.get(pk=appeal.pk)
    return (appeal.status, appeal.reviewer_id, appeal.outcome, appeal.escalated_at, steps(appeal), appeal.notes.count())


def _denied(call, appeal, ledger_count, error):
    before, entries = _snapshot(appeal), ledger_count()
    with pytest.raises(error):
        call()
    assert _snapshot(appeal) == before
    assert ledger_count() == entries


@pytest.mark.parametrize(
    ("role", "error"),
    [(r, NotAllowed) for r in ["caio", "reviewer", "ethics_board", "incident_responder", "auditor"]]
    + [("outsider", NotFound)],
)
def test_submit_is_for_appellants_and_coordinators(persona, role, error, project, ledger_count):
    actor = persona(role)
    entries = ledger_count()
    with pytest.raises(error):
        submit_appeal(actor, project, appellant_name="Pat", appellant_email="pat@example.org")
    assert Appeal.objects.count() == 0
    assert ledger_count() == entries


def test_appellants_appeal_only_for_themselves(project, appellant_user, reviewer_user, ledger_count):
    entries = ledger_count()
    with pytest.raises(NotAllowed, match="your own behalf"):
        submit_appeal(appellant_user, project, appellant=reviewer_user)
    with pytest.raises(NotAllowed):
        submit_appeal(appellant_user, project, appellant_name="Someone", appellant_email="s@example.org")
    assert (Appeal.objects.count(), ledger_count()) == (0, entries)
    assert submit_appeal(appellant_user, project).appellant == appellant_user


def test_coordinators_submit_for_outside_persons_with_contact_details(project, staff_user, appellant_user):
    with pytest.raises(ValidationFailed, match="e-mail, phone or postal address"):
        submit_appeal(staff_user, project, appellant_name="Pat")
    with pytest.raises(ValidationFailed, match="Name the appellant"):
        submit_appeal(staff_user, project)
    with pytest.raises(ValidationFailed, match="not both"):
        submit_appeal(staff_user, project, appellant=appellant_user, appellant_name="Pat")
    appeal = submit_appeal(staff_user, project, appellant_name="Pat", appellant_postal_address="1 Main St")
    assert (appeal.appellant, appeal.appellant_label) == (None, "Pat")


@pytest.mark.parametrize("trace", ["not-a-trace", "0" * 32, "4BF92F3577B34DA6A3CE929D0E0E4736", ""])
def test_an_invalid_trace_id_writes_nothing(project, appellant_user, trace, ledger_count):
    entries = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        submit_appeal(appellant_user, project, decision_trace_id=trace)
    assert "decision_trace_id" in exc.value.errors
    assert (Appeal.objects.count(), ledger_count()) == (0, entries)


def test_a_second_open_appeal_against_the_same_decision_is_refused(appeal, appellant_user, project, ledger_count):
    entries = ledger_count()
    with pytest.raises(Conflict):
        submit_appeal(appellant_user, project, decision_trace_id=appeal.decision_trace_id)
    assert (Appeal.objects.count(), ledger_count()) == (1, entries)


def test_a_use_case_of_another_project_is_refused(project, staff_user, other_use_case):
    with pytest.raises(ValidationFailed, match="another project"):
        submit_appeal(staff_user, project, use_case=other_use_case, appellant_name="P", appellant_phone="1")


@pytest.mark.parametrize("role", [*DENIED_MEMBERS, "outsider"])
def test_only_coordinators_assign_the_reviewer(persona, role, appeal, reviewer_user, ledger_count):
    error = NotFound if role == "outsider" else NotAllowed
    actor = persona(role)
    _denied(
        lambda: appeal_svc.appeal_assign_reviewer(actor=actor, appeal=appeal, reviewer=reviewer_user),
        appeal,
        ledger_count,
        error,
    )


@pytest.mark.parametrize("role", ["governance_staff", "caio", "ethics_board", "auditor", "appellant", "outsider"])
def test_only_the_assigned_reviewer_decides_or_escalates(persona, role, under_review, ledger_count):
    actor = persona(role)
    error = NotFound if role in ("outsider", "ethics_board") else NotAllowed
    _denied(
        lambda: appeal_svc.appeal_resolve(actor=actor, appeal=under_review, outcome="upheld", resolution="x"),
        under_review,
        ledger_count,
        error,
    )
    _denied(
        lambda: appeal_svc.appeal_escalate(actor=actor, appeal=under_review, reason="x"),
        under_review,
        ledger_count,
        error,
    )


def test_another_reviewer_of_the_project_cannot_decide(under_review, reviewer2, ledger_count):
    _denied(
        lambda: appeal_svc.appeal_resolve(actor=reviewer2, appeal=under_review, outcome="denied", resolution="x"),
        under_review,
        ledger_count,
        NotFound,  # not their appeal: invisible to them
    )


@pytest.mark.parametrize("role", ["governance_staff", "caio", "reviewer", "auditor", "outsider"])
def test_only_the_appellant_withdraws_or_adds_information(persona, role, under_review, ledger_count):
    actor = persona(role)
    error = NotFound if role == "outsider" else NotAllowed
    _denied(lambda: appeal_svc.appeal_withdraw(actor=actor, appeal=under_review), under_review, ledger_count, error)
    _denied(
        lambda: appeal_svc.appeal_add_information(actor=actor, appeal=under_review, body="x"),
        under_review,
        ledger_count,
        error,
    )


def test_the_reviewer_is_never_the_appellant_nor_a_decision_taker(
    project, appeal, staff_user, appellant_user, reviewer_user, ledger_count
):
    MembershipFactory(project=project, user=appellant_user, role=Membership.Role.REVIEWER)
    _denied(
        lambda: appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=appellant_user),
        appeal,
        ledger_count,
        ValidationFailed,
    )
    appeal.decision_takers.add(reviewer_user)
    with pytest.raises(ValidationFailed, match="took part in the contested decision"):
        appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=reviewer_user)
    assert appeal_sel.appeal_reviewer_candidates(staff_user, appeal) == []


def test_decision_takers_named_at_assignment_are_excluded_at_once(appeal, staff_user, reviewer_user, ledger_count):
    entries = ledger_count()
    with pytest.raises(ValidationFailed):
        appeal_svc.appeal_assign_reviewer(
            actor=staff_user, appeal=appeal, reviewer=reviewer_user, decided_by=[reviewer_user]
        )
    assert ledger_count() == entries
    assert appeal.decision_takers.count() == 0  # rolled back with the refusal


@pytest.mark.parametrize("who", ["board", "outsider"])
def test_the_reviewer_must_hold_the_reviewer_role_in_the_project(who, appeal, staff_user, board_user, outsider):
    candidate = board_user if who == "board" else outsider
    with pytest.raises(ValidationFailed, match="does not hold the reviewer role"):
        appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=candidate)


def test_a_coordinator_never_coordinates_their_own_appeal(project, staff_user, staff_user2, reviewer_user):
    appeal = submit_appeal(staff_user, project, appellant=staff_user)
    with pytest.raises(NotAllowed, match="party to this appeal"):
        appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=reviewer_user)
    appeal_svc.appeal_assign_reviewer(actor=staff_user2, appeal=appeal, reviewer=reviewer_user)
    assert Appeal.objects.get(pk=appeal.pk).reviewer == reviewer_user


def test_illegal_transitions_are_refused(appeal, under_review, staff_user, reviewer_user, appellant_user, ledger_count):
    fresh = submit_appeal(appellant_user, appeal.project)
    _denied(
        lambda: appeal_svc.appeal_resolve(actor=staff_user, appeal=fresh, outcome="upheld", resolution="x"),
        fresh,
        ledger_count,
        InvalidTransition,  # nobody decides an appeal without a reviewer
    )
    _denied(
        lambda: appeal_svc.appeal_escalate(actor=reviewer_user, appeal=fresh, reason="x"),
        fresh,
        ledger_count,
        NotFound,  # not assigned to them: invisible
    )
    _denied(
        lambda: appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=under_review, reviewer=reviewer_user),
        under_review,
        ledger_count,
        InvalidTransition,
    )
    _denied(
        lambda: appeal_svc.appeal_resolve(
            actor=reviewer_user, appeal=under_review, outcome="withdrawn", resolution="x"
        ),
        under_review,
        ledger_count,
        ValidationFailed,
    )
    appeal_svc.appeal_resolve(actor=reviewer_user, appeal=under_review, outcome="denied", resolution="Stands.")
    for call in (
        lambda: appeal_svc.appeal_withdraw(actor=appellant_user, appeal=under_review),
        lambda: appeal_svc.appeal_add_information(actor=appellant_user, appeal=under_review, body="late"),
        lambda: appeal_svc.appeal_escalate(actor=reviewer_user, appeal=under_review, reason="late"),
        lambda: appeal_svc.appeal_resolve(actor=reviewer_user, appeal=under_review, outcome="upheld", resolution="x"),
    ):
        _denied(call, under_review, ledger_count, InvalidTransition)


def test_each_reader_sees_only_their_appeals(
    project, appeal, under_review, appellant_user, reviewer2, auditor_user, outsider, staff_user
):
    other_appellant = member(project, "other.appellant", Membership.Role.APPELLANT)
    theirs = submit_appeal(other_appellant, project, decision_trace_id=new_trace_id())
    assert set(appeal_sel.appeal_list(appellant_user)) == {appeal}
    assert set(appeal_sel.appeal_list(other_appellant)) == {theirs}
    assert set(appeal_sel.appeal_list(under_review.reviewer)) == {appeal}
    assert set(appeal_sel.appeal_list(reviewer2)) == set()
    assert set(appeal_sel.appeal_list(auditor_user)) == {appeal, theirs}
    assert set(appeal_sel.appeal_list(staff_user)) == {appeal, theirs}
    assert set(appeal_sel.appeal_list(outsider)) == set()
    with pytest.raises(NotFound):
        appeal_sel.appeal_get(other_appellant, appeal.public_id)
    assert not appeal_sel.appeal_sees_case_file(appellant_user, appeal)
    assert appeal_sel.appeal_sees_case_file(auditor_user, appeal)
    assert Appeal.objects.get(pk=appeal.pk).status == Status.UNDER_REVIEW
