"""Reassessment schedules: presets and any positive frequency, cadence arithmetic from the anchor,
completion history, significant modifications, and the due / overdue / escalation sweep."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accountability.actors import SystemActor
from accountability.exceptions import InvalidTransition, NotAllowed, ValidationFailed
from accountability.models import Notification, ReassessmentSchedule
from accountability.rules.reassessments import first_step_after, next_due_after_completion, status_for
from accountability.services import reassessments as svc
from accountability.services import use_cases as uc_svc
from accountability.services.reassessment_sweep import reassessment_sweep
from tests.factories import CAIODesignationFactory, MembershipFactory, UserFactory

from .conftest import ledger_entries

pytestmark = pytest.mark.django_db
D0 = dt.date(2026, 1, 5)
SWEEPER = SystemActor("celery:reassessments")


def at(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(17, 0), tzinfo=dt.UTC), tick=False)


# --- pure arithmetic ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (dt.date(2026, 1, 4), dt.date(2026, 1, 5)),  # before the anchor: the anchor itself
        (dt.date(2026, 1, 5), dt.date(2026, 4, 5)),  # on a step: the next one
        (dt.date(2026, 2, 1), dt.date(2026, 4, 5)),
        (dt.date(2026, 4, 5), dt.date(2026, 7, 4)),
        (dt.date(2026, 10, 2), dt.date(2026, 12, 31)),  # on the third step: the fourth
        (dt.date(2026, 11, 30), dt.date(2026, 12, 31)),
    ],
)
def test_first_step_after_counts_whole_steps_from_the_anchor(after, expected):
    assert first_step_after(D0, 90, after) == expected


def test_late_completion_does_not_drift_the_calendar():
    # due 2026-04-05, done 19 days late: next is 2026-07-04 (anchor + 180), not 2026-07-23
    assert next_due_after_completion(D0, 90, dt.date(2026, 4, 5), dt.date(2026, 4, 24)) == dt.date(2026, 7, 4)


def test_early_completion_satisfies_the_current_due_date():
    assert next_due_after_completion(D0, 90, dt.date(2026, 4, 5), dt.date(2026, 3, 30)) == dt.date(2026, 7, 4)


def test_very_late_completion_skips_missed_cycles():
    assert next_due_after_completion(D0, 30, dt.date(2026, 2, 4), dt.date(2026, 5, 1)) == dt.date(2026, 5, 5)


@pytest.mark.parametrize(
    ("next_due", "status"),
    [
        (dt.date(2026, 1, 4), "overdue"),
        (dt.date(2026, 1, 5), "due"),
        (dt.date(2026, 1, 19), "due"),  # 14-day window (portal default)
        (dt.date(2026, 1, 20), "on_track"),
    ],
)
def test_status_from_the_due_date(next_due, status):
    assert status_for(next_due, D0) == status


# --- services ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "days"), [("quarterly", 90), ("semi_annual", 182), ("annual", 365), ("biennial", 730)]
)
def test_presets(preset, days, project, staff_user):
    with at(D0):
        schedule = svc.reassessment_create(
            actor=staff_user, project=project, assessment_type="bias_audit", preset=preset
        )
    assert schedule.frequency_days == days
    assert schedule.next_due == schedule.anchor_date == D0 + dt.timedelta(days=days)
    assert schedule.status == "on_track"


def test_any_positive_frequency_and_first_due(project, staff_user, use_case):
    with at(D0):
        schedule = svc.reassessment_create(
            actor=staff_user,
            project=project,
            use_case=use_case,
            assessment_type="transparency_audit",
            frequency_days=45,
            first_due=D0 + dt.timedelta(days=10),
            assigned_to=staff_user,
        )
    assert (schedule.frequency_days, schedule.next_due, schedule.status) == (45, dt.date(2026, 1, 15), "due")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"frequency_days": 0}, "frequency_days"),
        ({"frequency_days": -5}, "frequency_days"),
        ({"frequency_days": None}, "frequency_days"),
        ({"preset": "monthly"}, "preset"),
        ({"preset": "annual", "frequency_days": 30}, "frequency_days"),
        ({"frequency_days": 90, "assessment_type": "astrology"}, "assessment_type"),
        ({"frequency_days": 90, "first_due": D0 - dt.timedelta(days=366)}, "first_due"),
    ],
)
def test_invalid_schedules_write_nothing(kwargs, field, project, staff_user, ledger_count):
    before = ledger_count()
    kwargs = {"assessment_type": "bias_audit", **kwargs}
    with at(D0), pytest.raises(ValidationFailed) as exc:
        svc.reassessment_create(actor=staff_user, project=project, **kwargs)
    assert field in exc.value.errors
    assert ledger_count() == before
    assert not ReassessmentSchedule.objects.exists()


def test_an_existing_obligation_already_due_is_overdue_at_once(project, staff_user):
    with at(D0):
        schedule = svc.reassessment_create(
            actor=staff_user,
            project=project,
            assessment_type="bias_audit",
            frequency_days=90,
            first_due=D0 - dt.timedelta(days=20),
        )
    assert (schedule.next_due, schedule.status) == (D0 - dt.timedelta(days=20), "overdue")


def test_completion_history_and_cadence(project, staff_user, auditor_user):
    with at(D0):
        schedule = svc.reassessment_create(
            actor=staff_user, project=project, assessment_type="bias_audit", frequency_days=90
        )
    assert schedule.next_due == dt.date(2026, 4, 5)
    with at(dt.date(2026, 4, 24)):
        done = svc.reassessment_complete(
            actor=staff_user, schedule=schedule, evidence_url="https://evidence.example.gov/r1", notes="OK"
        )
    schedule.refresh_from_db()
    assert (done.due_on, done.was_overdue, done.next_due) == (dt.date(2026, 4, 5), True, dt.date(2026, 7, 4))
    assert (done.completed_by, done.completed_by_name, done.evidence_url) == (
        staff_user,
        "staff",
        "https://evidence.example.gov/r1",
    )
    assert done.ledger_entry_id == ledger_entries()[-1]["id"]
    assert schedule.next_due == dt.date(2026, 7, 4)
    assert schedule.last_completed_by == staff_user
    with at(dt.date(2026, 6, 25)):  # early, inside the window: satisfies the July due date
        svc.reassessment_complete(actor=staff_user, schedule=schedule)
    schedule.refresh_from_db()
    assert schedule.next_due == dt.date(2026, 10, 2)
    assert schedule.completions.count() == 2


def test_completion_rejects_future_dates_and_bad_links(project, staff_user, ledger_count):
    with at(D0):
        schedule = svc.reassessment_create(
            actor=staff_user, project=project, assessment_type="bias_audit", frequency_days=30
        )
        before = ledger_count()
        with pytest.raises(ValidationFailed) as exc:
            svc.reassessment_complete(
                actor=staff_user, schedule=schedule, completed_on=D0 + dt.timedelta(days=1), evidence_url="nope"
            )
    assert set(exc.value.errors) == {"completed_on", "evidence_url"}
    assert ledger_count() == before
    assert not schedule.completions.exists()


def test_the_assignee_may_complete_without_the_manage_permission(project, staff_user, reviewer_user, board_user):
    schedule = svc.reassessment_create(
        actor=staff_user, project=project, assessment_type="ethics_review", frequency_days=30, assigned_to=reviewer_user
    )
    svc.reassessment_complete(actor=reviewer_user, schedule=schedule)
    with pytest.raises(NotAllowed):
        svc.reassessment_complete(actor=board_user, schedule=schedule)


def test_frequency_change_keeps_the_due_date_and_reanchors(project, staff_user):
    with at(D0):
        schedule = svc.reassessment_create(
            actor=staff_user, project=project, assessment_type="bias_audit", frequency_days=90
        )
        svc.reassessment_update(actor=staff_user, schedule=schedule, preset="annual")
    schedule.refresh_from_db()
    assert (schedule.frequency_days, schedule.anchor_date, schedule.next_due) == (
        365,
        dt.date(2026, 4, 5),
        dt.date(2026, 4, 5),
    )


def test_stage_change_is_a_significant_modification(project, staff_user, use_case):
    with at(D0):
        schedule = svc.reassessment_create(
            actor=staff_user,
            project=project,
            use_case=use_case,
            assessment_type="impact_assessment",
            frequency_days=365,
            assigned_to=staff_user,
        )
    with at(dt.date(2026, 2, 10)):
        uc_svc.use_case_change_stage(actor=staff_user, use_case=use_case, stage="pilot", reason="Pilot starts")
    schedule.refresh_from_db()
    assert (schedule.next_due, schedule.status, schedule.due_reason) == (
        dt.date(2026, 2, 10),
        "due",
        "significant_modification",
    )
    assert "pre_deployment -> pilot" in schedule.due_reason_detail
    assert [e["type"] for e in ledger_entries()].count("reassessment.due_now") == 1
    assert Notification.objects.filter(recipient=staff_user, kind="reassessment.due").count() == 1
    # Completing it returns the schedule to its cadence from the anchor.
    with at(dt.date(2026, 2, 12)):
        svc.reassessment_complete(actor=staff_user, schedule=schedule)
    schedule.refresh_from_db()
    assert (schedule.next_due, schedule.due_reason) == (dt.date(2027, 1, 5), "cadence")


def test_explicit_significant_modification(project, staff_user, use_case, reviewer_user, ledger_count):
    schedule = svc.reassessment_create(
        actor=staff_user, project=project, use_case=use_case, assessment_type="bias_audit", frequency_days=365
    )
    before = ledger_count()
    with pytest.raises(NotAllowed):
        svc.reassessment_significant_modification(actor=reviewer_user, use_case=use_case, description="Retrained")
    with pytest.raises(ValidationFailed):
        svc.reassessment_significant_modification(actor=staff_user, use_case=use_case, description=" ")
    assert ledger_count() == before
    changed = svc.reassessment_significant_modification(actor=staff_user, use_case=use_case, description="Retrained")
    assert [s.pk for s in changed] == [schedule.pk]
    schedule.refresh_from_db()
    assert schedule.status == "due"
    assert ledger_count() == before + 1


def test_retiring_the_use_case_stops_its_schedules(project, staff_user, use_case):
    schedule = svc.reassessment_create(
        actor=staff_user, project=project, use_case=use_case, assessment_type="bias_audit", frequency_days=30
    )
    uc_svc.use_case_change_stage(actor=staff_user, use_case=use_case, stage="retired", reason="Replaced")
    schedule.refresh_from_db()
    assert not schedule.is_active
    assert "retired" in schedule.deactivated_reason
    with pytest.raises(InvalidTransition):
        svc.reassessment_complete(actor=staff_user, schedule=schedule)


# --- the sweep --------------------------------------------------------------------------------------------


@pytest.fixture
def caio_official(project):
    user = UserFactory(username="maya")
    MembershipFactory(project=project, user=user, role="caio")
    CAIODesignationFactory(project=project, official=user)
    return user


def test_sweep_due_then_overdue_then_escalated_each_once(project, staff_user, reviewer_user, caio_official):
    with at(D0):
        schedule = svc.reassessment_create(
            actor=staff_user,
            project=project,
            assessment_type="bias_audit",
            frequency_days=30,
            assigned_to=reviewer_user,
        )  # due 2026-02-04, due-soon from 2026-01-21
    actor = actor = __import__("accountability.actors", fromlist=["SystemActor"]).SystemActor("celery:reassessments")
    with at(dt.date(2026, 1, 20)):
        assert reassessment_sweep(actor=actor).due == 0
    with at(dt.date(2026, 1, 21)):
        assert reassessment_sweep(actor=actor).as_dict() == {"overdue": 0, "due": 1, "escalated": 0}
        assert reassessment_sweep(actor=actor).as_dict() == {"overdue": 0, "due": 0, "escalated": 0}
    with at(dt.date(2026, 2, 4)):
        assert reassessment_sweep(actor=actor).overdue == 0  # due today is not overdue
    with at(dt.date(2026, 2, 5)):
        assert reassessment_sweep(actor=actor).as_dict() == {"overdue": 1, "due": 0, "escalated": 0}
        assert reassessment_sweep(actor=actor).overdue == 0
    schedule.refresh_from_db()
    flagged_at = schedule.status_changed_at
    assert schedule.status == "overdue"
    with time_machine.travel(flagged_at + dt.timedelta(hours=48) - dt.timedelta(seconds=1), tick=False):
        assert reassessment_sweep(actor=actor).escalated == 0
    with time_machine.travel(flagged_at + dt.timedelta(hours=48), tick=False):
        assert reassessment_sweep(actor=actor).escalated == 1
        assert reassessment_sweep(actor=actor).escalated == 0
    kinds = list(Notification.objects.order_by("id").values_list("recipient__username", "kind"))
    assert kinds == [
        ("reviewer", "reassessment.due"),
        ("reviewer", "reassessment.overdue"),
        ("maya", "reassessment.escalate"),
    ]
    history = list(schedule.history.order_by("history_id").values_list("status", "history_change_reason"))
    assert history[-3:] == [
        ("due", "due soon (by celery:reassessments)"),
        ("overdue", "overdue (by celery:reassessments)"),
        ("overdue", "escalated to the CAIO (by celery:reassessments)"),
    ]


def test_after_completion_the_next_cycle_notifies_again(project, staff_user, reviewer_user):
    actor = SWEEPER
    with at(D0):
        schedule = svc.reassessment_create(
            actor=staff_user,
            project=project,
            assessment_type="bias_audit",
            frequency_days=30,
            assigned_to=reviewer_user,
        )
    with at(dt.date(2026, 2, 5)):
        reassessment_sweep(actor=actor)
        svc.reassessment_complete(actor=reviewer_user, schedule=schedule)
    schedule.refresh_from_db()
    assert (schedule.next_due, schedule.status, schedule.escalated_at) == (dt.date(2026, 3, 6), "on_track", None)
    with at(dt.date(2026, 3, 7)):
        assert reassessment_sweep(actor=actor).overdue == 1
    assert Notification.objects.filter(kind="reassessment.overdue").count() == 2


def test_inactive_schedules_are_not_swept(project, staff_user):
    with at(D0):
        schedule = svc.reassessment_create(
            actor=staff_user, project=project, assessment_type="bias_audit", frequency_days=1
        )
        svc.reassessment_deactivate(actor=staff_user, schedule=schedule, reason="Merged into the annual review")
    with at(dt.date(2026, 3, 1)):
        assert reassessment_sweep(actor=SWEEPER).overdue == 0
