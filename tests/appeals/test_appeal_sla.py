"""The appeal SLAs on the business-day calendar: the flow's timer flags and notifies a missed reviewer
assignment once; the sweep is the idempotent safety net; the decision deadline is swept too."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from viewflow.workflow.timers import fire_due_timers

from accountability import tasks
from accountability.actors import SystemActor
from accountability.exceptions import NotAllowed
from accountability.models import Appeal, Notification
from accountability.services import appeal_sla
from accountability.services import appeals as appeal_svc
from accountability.services.workflow import workflow_report_stalled
from tests.ledger_reads import integrated

from .conftest import steps
from .factories import submit_appeal

pytestmark = pytest.mark.django_db
ET = ZoneInfo("America/New_York")
SWEEPER = SystemActor("celery:appeal-sla")


def _breach_notes(user) -> int:
    return Notification.objects.filter(recipient=user, kind="appeal.sla_breached").count()


def test_assignment_is_due_five_business_days_later_skipping_the_holiday(project, appellant_user, staff_user):
    with time_machine.travel(dt.datetime(2026, 7, 2, 10, 0, tzinfo=ET), tick=False):
        appeal = submit_appeal(appellant_user, project)
    assert appeal.assignment_due_at == dt.datetime(2026, 7, 10, 10, 0, tzinfo=ET)
    timer = appeal.process.task_set.get(flow_task_type="TIMER")
    assert timer.scheduled == appeal.assignment_due_at


def test_the_timer_flags_and_notifies_the_breach_once(project, appellant_user, staff_user, caio_user, reviewer_user):
    with time_machine.travel(dt.datetime(2026, 6, 5, 15, 0, tzinfo=ET), tick=False):  # a Friday
        appeal = submit_appeal(appellant_user, project)
    with time_machine.travel(dt.datetime(2026, 6, 12, 14, 59, tzinfo=ET), tick=False):
        assert fire_due_timers() == 0
    assert Appeal.objects.get(pk=appeal.pk).assignment_breached_at is None
    breach = dt.datetime(2026, 6, 12, 15, 1, tzinfo=ET)
    with time_machine.travel(breach, tick=False):
        assert fire_due_timers() == 1
        assert appeal_sla.appeal_sla_sweep(actor=SWEEPER) == {"assignment": 0, "decision": 0}
    appeal = Appeal.objects.get(pk=appeal.pk)
    assert appeal.assignment_breached_at == breach
    assert appeal.sla_notified_at == breach
    assert (_breach_notes(staff_user), _breach_notes(caio_user), _breach_notes(reviewer_user)) == (1, 1, 0)
    assert integrated(action_type="appeal.sla_breach").count() == 1
    assert steps(appeal)["assign_reviewer"] == "NEW"  # non-interrupting: assignment is still possible
    assert steps(appeal)["breach_noted"] == "DONE"
    with time_machine.travel(breach + dt.timedelta(hours=1), tick=False):
        appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=reviewer_user)
    entry = integrated(action_type="appeal.assign_reviewer").get()
    assert entry.document["action"]["inputs"][0]["changes"]["within_sla"] is False


def test_an_assignment_in_time_disarms_the_timer(project, appellant_user, staff_user, reviewer_user):
    with time_machine.travel(dt.datetime(2026, 6, 5, 15, 0, tzinfo=ET), tick=False):
        appeal = submit_appeal(appellant_user, project)
        appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=reviewer_user)
    with time_machine.travel(dt.datetime(2026, 6, 20, tzinfo=ET), tick=False):
        assert fire_due_timers() == 0
        assert appeal_sla.appeal_sla_sweep(actor=SWEEPER) == {"assignment": 0, "decision": 0}
    assert Appeal.objects.get(pk=appeal.pk).assignment_breached_at is None
    assert _breach_notes(staff_user) == 0


def test_the_sweep_catches_a_missed_timer_and_is_idempotent(project, appellant_user, staff_user):
    with time_machine.travel(dt.datetime(2026, 6, 5, 15, 0, tzinfo=ET), tick=False):
        appeal = submit_appeal(appellant_user, project)
    with time_machine.travel(dt.datetime(2026, 6, 15, 9, 0, tzinfo=ET), tick=False):
        # The beat task ran the sweep before the timer dispatcher: the sweep flags it.
        assert tasks.appeal_sla_sweep_task.delay().get() == {"assignment": 1, "decision": 0}
        assert tasks.appeal_sla_sweep_task.delay().get() == {"assignment": 0, "decision": 0}
        assert tasks.workflow_fire_due_timers_task.delay().get() == 1  # the timer fires, changes nothing more
    assert _breach_notes(staff_user) == 1
    assert integrated(action_type="appeal.sla_breach").count() == 1
    assert Appeal.objects.get(pk=appeal.pk).assignment_breached_at is not None


def test_the_decision_deadline_is_swept(project, appellant_user, staff_user, reviewer_user):
    with time_machine.travel(dt.datetime(2026, 6, 1, 9, 0, tzinfo=ET), tick=False):
        appeal = submit_appeal(appellant_user, project)
        appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=reviewer_user)
    with time_machine.travel(dt.datetime(2026, 7, 1, 8, 59, tzinfo=ET), tick=False):
        assert appeal_sla.appeal_sla_sweep(actor=SWEEPER) == {"assignment": 0, "decision": 0}
    with time_machine.travel(dt.datetime(2026, 7, 1, 9, 1, tzinfo=ET), tick=False):
        assert appeal_sla.appeal_sla_sweep(actor=SWEEPER) == {"assignment": 0, "decision": 1}
        assert appeal_sla.appeal_sla_sweep(actor=SWEEPER) == {"assignment": 0, "decision": 0}
    assert Notification.objects.filter(recipient=reviewer_user, kind="appeal.decision_overdue").count() == 1
    assert Appeal.objects.get(pk=appeal.pk).decision_breached_at is not None


def test_people_do_not_run_the_sweep_or_flag_breaches(appeal, staff_user, reviewer_user, ledger_count):
    entries = ledger_count()
    with pytest.raises(NotAllowed):
        appeal_sla.appeal_sla_sweep(actor=staff_user)
    with pytest.raises(NotAllowed):
        appeal_sla.appeal_flag_assignment_breach(actor=reviewer_user, appeal=appeal)
    assert ledger_count() == entries


def test_the_celery_tasks_keep_their_stable_names():
    assert tasks.workflow_fire_due_timers_task.name == "workflow.fire_due_timers"
    assert tasks.appeal_sla_sweep_task.name == "appeals.sla_sweep"
    assert tasks.workflow_report_stalled_task.name == "workflow.report_stalled"


def test_steps_that_failed_in_the_background_are_reported_once(appeal, staff_user, reviewer_user):
    timer = appeal.process.task_set.get(flow_task_type="TIMER")
    timer.status = "ERROR"  # what the dispatcher records when a background step raises
    timer.save()
    assert tasks.workflow_report_stalled_task.delay().get() == 1
    assert tasks.workflow_report_stalled_task.delay().get() == 0
    note = Notification.objects.get(kind="workflow.stalled")
    assert note.recipient == staff_user
    assert note.subject == f"The process of {appeal.public_id} stalled at 'assign_reviewer__timeout'"
    with pytest.raises(NotAllowed):
        workflow_report_stalled(actor=reviewer_user)
