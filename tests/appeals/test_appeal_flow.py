"""AppealFlow end to end, without a browser: submit, assign, decide or escalate, withdraw."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from viewflow.workflow.fields import get_task_ref

from accountability import flows
from accountability.exceptions import Conflict, ValidationFailed
from accountability.ledger.services.entries import correction_record
from accountability.models import Appeal, Notification
from accountability.selectors import appeals as appeal_sel
from accountability.selectors import workflow as task_sel
from accountability.services import appeals as appeal_svc
from tests.factories import CAIODesignationFactory
from tests.ledger_reads import integrated

from .conftest import steps
from .factories import decision_entry, member, new_trace_id, submit_appeal

pytestmark = pytest.mark.django_db
Status = Appeal.Status


def _actions(appeal) -> list[str]:
    """The action types of the Governance entries whose subject is the appeal, in log order."""
    return [
        entry.action_type
        for entry in integrated(entry_type="governance")
        if [o.get("public_id") for o in entry.document["action"]["outputs"][:1]] == [appeal.public_id]
    ]


def test_submit_assign_resolve_and_notify(project, use_case, appellant_user, staff_user, reviewer_user):
    appeal = submit_appeal(appellant_user, project, use_case, reason="My income fell.")
    assert appeal.status == Status.SUBMITTED
    assert appeal.appellant == appellant_user
    assert appeal.assignment_due_at > appeal.created_at
    assert abs(appeal.decision_due_at - appeal.created_at - dt.timedelta(days=30)) < dt.timedelta(seconds=5)
    assert steps(appeal) == {"start": "DONE", "assign_reviewer": "NEW", "assign_reviewer__timeout": "SCHEDULED"}
    assert Notification.objects.filter(recipient=staff_user, kind="appeal.submitted").count() == 1

    appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=reviewer_user)
    appeal.refresh_from_db()
    assert (appeal.status, appeal.reviewer, appeal.assigned_by) == (Status.UNDER_REVIEW, reviewer_user, staff_user)
    assert steps(appeal)["review"] == "ASSIGNED"
    assert steps(appeal)["assign_reviewer__timeout"] == "CANCELED"
    assert appeal.process.task_set.get(flow_task=flows.AppealFlow.review).owner == reviewer_user

    appeal_svc.appeal_resolve(actor=reviewer_user, appeal=appeal, outcome="upheld", resolution="Reversed.")
    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome, appeal.resolution) == (Status.RESOLVED, "upheld", "Reversed.")
    assert appeal.resolved_at is not None
    assert appeal.resolved_by == reviewer_user
    assert appeal.process.status == "DONE"
    assert steps(appeal) == {
        "start": "DONE",
        "assign_reviewer": "DONE",
        "assign_reviewer__timeout": "CANCELED",
        "review": "DONE",
        "route": "DONE",
        "close": "DONE",
        "end": "DONE",
    }
    resolved = Notification.objects.get(recipient=appellant_user, kind="appeal.resolved")
    assert resolved.subject.endswith("Upheld: the decision is reversed")
    assert _actions(appeal) == ["appeal.submit", "appeal.assign_reviewer", "appeal.resolve"]
    assert [h.status for h in appeal.history.order_by("history_id")] == ["submitted", "under_review", "resolved"]


def test_an_appeal_links_to_the_ledger_decision_and_its_decision_taker(project, staff_user, reviewer_user):
    caseworker = member(project, "caseworker", "reviewer")
    trace = new_trace_id()
    entry = decision_entry(trace, project, decided_by=caseworker)
    appeal = submit_appeal(
        staff_user, project, decision_trace_id=trace, appellant_name="Pat Doe", appellant_email="pat@example.org"
    )
    assert appeal.decision_entry_id == entry.entry_id
    assert list(appeal.decision_takers.all()) == [caseworker]
    submit_entry = integrated(action_type="appeal.submit").get()
    assert submit_entry.document["context"]["related_entries"] == [entry.entry_id]
    # The ledger named the caseworker (a reviewer) as the decision's overseer: never its reviewer.
    with pytest.raises(ValidationFailed, match="caseworker took part in the contested decision"):
        appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=caseworker)
    appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=reviewer_user)
    # Another trace id has no ledger entry: the appeal is accepted, unlinked.
    other = submit_appeal(staff_user, project, appellant_name="Sam", appellant_phone="555-0100")
    assert other.decision_entry_id == ""


@pytest.mark.postgres
def test_a_pending_decision_entry_is_linked_too(project, staff_user):
    """On PostgreSQL the decision waits in the queue for the integrator; the appeal links it at once."""
    caseworker = member(project, "caseworker", "reviewer")
    trace = new_trace_id()
    entry = decision_entry(trace, project, decided_by=caseworker)
    assert entry.seq is None
    appeal = submit_appeal(staff_user, project, decision_trace_id=trace, appellant_name="Pat", appellant_phone="1")
    assert appeal.decision_entry_id == entry.entry_id
    assert list(appeal.decision_takers.all()) == [caseworker]


def test_decision_takers_include_people_a_correction_names(project, staff_user, reviewer_user, reviewer2):
    """A correction that names another overseer adds them; the one first named stays a decision taker."""
    trace = new_trace_id()
    entry = decision_entry(trace, project, decided_by=reviewer2)
    correction_record(
        actor=staff_user,
        corrects=entry.entry_id,
        reason="The application was overseen by another reviewer.",
        amendments={"accountability.responsibility.oversight": {"kind": "user", "id": reviewer_user.username}},
    )
    appeal = submit_appeal(staff_user, project, decision_trace_id=trace, appellant_name="Pat", appellant_phone="1")
    assert set(appeal.decision_takers.all()) == {reviewer_user, reviewer2}


def test_only_persons_of_the_project_are_resolved_from_the_ledger(project, other_project, staff_user):
    """An organisation as overseer names nobody; a person who is no member (nor superuser) is not resolved."""
    trace, stranger_trace = new_trace_id(), new_trace_id()
    decision_entry(trace, project)
    stranger = member(other_project, "stranger", "reviewer")
    decision_entry(stranger_trace, project, decided_by=stranger)
    for t in (trace, stranger_trace):
        appeal = submit_appeal(staff_user, project, decision_trace_id=t, appellant_name="Pat", appellant_phone="1")
        assert appeal.decision_entry_id
        assert list(appeal.decision_takers.all()) == []


def test_escalation_goes_to_the_caio_who_decides(under_review, reviewer_user, caio_user, project):
    CAIODesignationFactory(project=project, official=caio_user, official_email="caio@example.gov")
    appeal_svc.appeal_escalate(actor=reviewer_user, appeal=under_review, reason="Possible age discrimination.")
    appeal = Appeal.objects.get(pk=under_review.pk)
    assert appeal.status == Status.ESCALATED
    assert appeal.escalated_to == caio_user
    assert appeal.escalated_to_label == "Jane Smith (Chief AI Officer)"
    assert steps(appeal)["escalate"] == "ASSIGNED"
    assert Notification.objects.filter(recipient=caio_user, kind="appeal.escalated").count() == 1
    appeal_svc.appeal_resolve(actor=caio_user, appeal=appeal, outcome="partially_upheld", resolution="Re-scored.")
    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome, appeal.resolved_by) == (Status.RESOLVED, "partially_upheld", caio_user)
    assert steps(appeal)["end"] == "DONE"
    assert _actions(appeal)[-2:] == ["appeal.escalate", "appeal.resolve"]


def test_escalation_goes_to_the_narrowest_delegate_with_appeal_escalation(
    under_review, reviewer_user, caio_user, project, use_case
):
    program = member(project, "program.lead", "governance_staff")
    program.email = "program@example.gov"
    program.save()
    local = member(project, "local.lead", "auditor")
    local.email = "local@example.gov"
    local.save()
    project.program = "Benefits"
    project.save()
    chain = [
        {"delegate_name": "Program Lead", "delegate_email": "program@example.gov", "scope": "program",
         "scope_ref": "Benefits", "powers": ["appeal_escalation", "inventory"], "start_date": "2025-01-01",
         "end_date": None, "delegated_by": "caio@example.gov"},
        {"delegate_name": "Local Lead", "delegate_email": "local@example.gov", "scope": "project",
         "scope_ref": use_case.name, "powers": ["appeal_escalation"], "start_date": "2025-01-01",
         "end_date": None, "delegated_by": "program@example.gov"},
    ]  # fmt: skip
    CAIODesignationFactory(
        project=project, official=caio_user, official_email="caio@example.gov", delegation_chain=chain
    )
    under_review = Appeal.objects.get(pk=under_review.pk)
    target = appeal_sel.escalation_target(under_review)
    assert target.user == local
    assert target.label == "Local Lead (delegated appeal escalation, project scope)"
    # A delegate who took the contested decision is skipped: the program lead is next.
    under_review.decision_takers.add(local)
    assert appeal_sel.escalation_target(under_review).user == program
    appeal_svc.appeal_escalate(actor=reviewer_user, appeal=under_review, reason="Rights impact.")
    assert Appeal.objects.get(pk=under_review.pk).escalated_to == program


def test_without_a_designation_the_escalation_waits_in_the_caio_queue(under_review, reviewer_user, caio_user):
    appeal = appeal_svc.appeal_escalate(actor=reviewer_user, appeal=under_review, reason="Needs the CAIO.")
    assert appeal.escalated_to is None
    task = appeal.process.task_set.get(flow_task=flows.AppealFlow.escalate)
    assert task.status == "NEW"
    assert list(task_sel.task_queue(caio_user)) == [task]
    assert appeal_sel.appeal_can_decide_escalation(caio_user, appeal)
    appeal_svc.appeal_resolve(actor=caio_user, appeal=appeal, outcome="denied", resolution="The decision stands.")
    assert Appeal.objects.get(pk=appeal.pk).status == Status.RESOLVED


def test_escalation_is_refused_when_nobody_free_of_conflict_can_take_it(project, staff_user, reviewer_user):
    appeal = submit_appeal(staff_user, project, appellant_name="Pat", appellant_email="p@example.org")
    appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=reviewer_user)
    with pytest.raises(Conflict, match="no CAIO"):
        appeal_svc.appeal_escalate(actor=reviewer_user, appeal=appeal, reason="Needs the CAIO.")
    assert Appeal.objects.get(pk=appeal.pk).status == Status.UNDER_REVIEW


def test_withdrawal_cancels_the_process(under_review, appellant_user, reviewer_user, ledger_count):
    before = ledger_count()
    appeal_svc.appeal_withdraw(actor=appellant_user, appeal=under_review, reason="Sorted out.")
    appeal = Appeal.objects.get(pk=under_review.pk)
    assert (appeal.status, appeal.outcome) == (Status.RESOLVED, Appeal.Outcome.WITHDRAWN)
    assert appeal.resolution == "Withdrawn by the appellant. Sorted out."
    assert appeal.process.status == "CANCELED"
    assert steps(appeal)["review"] == "CANCELED"
    assert ledger_count() == before + 1
    assert Notification.objects.filter(recipient=reviewer_user, kind="appeal.withdrawn").exists()
    assert list(task_sel.task_inbox(reviewer_user)) == []


def test_withdrawal_before_assignment_cancels_the_sla_timer(appeal, appellant_user):
    appeal_svc.appeal_withdraw(actor=appellant_user, appeal=appeal)
    assert steps(appeal) == {"start": "DONE", "assign_reviewer": "CANCELED", "assign_reviewer__timeout": "CANCELED"}


def test_the_appellant_adds_information_that_reaches_the_reviewer(under_review, appellant_user, reviewer_user):
    note = appeal_svc.appeal_add_information(actor=appellant_user, appeal=under_review, body="New payslips.")
    assert (note.author, note.author_label, note.body) == (appellant_user, "appellant", "New payslips.")
    assert Notification.objects.filter(recipient=reviewer_user, kind="appeal.information").count() == 1
    assert integrated(action_type="appeal.add_information").count() == 1


def test_an_outside_appellant_is_told_the_outcome_by_email(
    project, staff_user, reviewer_user, django_capture_on_commit_callbacks
):
    appeal = submit_appeal(staff_user, project, appellant_name="Pat Doe", appellant_email="Pat@Example.org")
    appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=reviewer_user)
    with django_capture_on_commit_callbacks(execute=True):
        appeal_svc.appeal_resolve(actor=reviewer_user, appeal=appeal, outcome="denied", resolution="It stands.")
    outcome_mail = [m for m in mail.outbox if m.to == ["pat@example.org"]]
    assert [m.subject for m in outcome_mail][
        -1
    ] == f"Decision on your appeal {appeal.public_id}: Denied: the decision stands"
    assert outcome_mail[-1].body == "It stands."


def test_string_node_refs_match_the_flow():
    assert get_task_ref(flows.AppealFlow.assign_reviewer) == task_sel.node_ref(task_sel.APPEAL_FLOW, "assign_reviewer")
    assert get_task_ref(flows.EthicsReviewFlow.decide) == task_sel.node_ref(task_sel.ETHICS_FLOW, "decide")
