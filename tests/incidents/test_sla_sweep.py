"""Resolution SLAs: the deadline arithmetic, the beat sweep (breach, CAIO escalation, late EU reports,
overdue corrective actions) and that a sweep run twice notifies nobody twice."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.exceptions import NotAllowed, ValidationFailed
from accountability.models import CorrectiveAction, Incident, IncidentEvent, Notification, WebhookDelivery
from accountability.services import incident_coordination as coord
from accountability.services import incident_lifecycle as life
from accountability.services import incidents as svc
from accountability.services.incident_sweep import incident_sla_sweep
from tests.factories import CAIODesignationFactory, MembershipFactory, ProjectFactory, UserFactory

from .conftest import ledger_entries
from .factories import CorrectiveActionFactory, IncidentFactory, WebhookFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def caio_official(project):
    user = UserFactory(username="maya")
    MembershipFactory(project=project, user=user, role="caio")
    CAIODesignationFactory(project=project, official=user)
    return user


def _log(actor, project, severity="critical", **kw):
    return svc.incident_log(actor=actor, project=project, title="Hallucinated citation", severity=severity, **kw)


@pytest.mark.parametrize(("severity", "hours"), [("critical", 72), ("high", 168), ("medium", 720), ("low", 2160)])
def test_sla_due_at_is_stored_at_logging_from_configuration(severity, hours, project, responder_user):
    with time_machine.travel(T0, tick=False):
        incident = _log(responder_user, project, severity)
    assert incident.reported_at == T0
    assert incident.sla_due_at == T0 + dt.timedelta(hours=hours)


def test_a_backdated_report_only_makes_the_sla_stricter(project, responder_user, ledger_count):
    with time_machine.travel(T0, tick=False):
        incident = _log(responder_user, project, reported_at=T0 - dt.timedelta(hours=10))
        assert incident.sla_due_at == T0 + dt.timedelta(hours=62)
        before = ledger_count()
        with pytest.raises(ValidationFailed) as exc:
            _log(responder_user, project, reported_at=T0 + dt.timedelta(hours=1))
        assert "reported_at" in exc.value.errors
        with pytest.raises(ValidationFailed) as exc:
            _log(
                responder_user, project, reported_at=T0 - dt.timedelta(hours=5), detected_at=T0 - dt.timedelta(hours=2)
            )
        assert "reported_at" in exc.value.errors
        assert ledger_count() == before


def test_severity_defaults_from_the_type_mapping(project, responder_user):
    incident = svc.incident_log(actor=responder_user, project=project, title="Leak", incident_type="data_breach")
    assert incident.severity == "critical"
    extra = svc.incident_log(actor=responder_user, project=project, title="Injected", incident_type="prompt_injection")
    assert extra.severity == "high"


def test_breach_is_flagged_once_at_the_deadline(project, responder_user, sla_actor):
    with time_machine.travel(T0, tick=False):
        incident = _log(responder_user, project, assigned_to=responder_user)
    with time_machine.travel(T0 + dt.timedelta(hours=72) - dt.timedelta(seconds=1), tick=False):
        assert incident_sla_sweep(actor=sla_actor).sla_breached == 0
        assert not Incident.objects.get(pk=incident.pk).sla_breached
    deadline = T0 + dt.timedelta(hours=72)
    with time_machine.travel(deadline, tick=False):
        assert Incident.objects.get(pk=incident.pk).sla_breached  # shown at once, before the sweep flags it
        ledger_before, history_before = len(ledger_entries()), incident.history.count()
        assert incident_sla_sweep(actor=sla_actor).sla_breached == 1
        incident.refresh_from_db()
        assert incident.sla_breached_at == deadline
        assert len(ledger_entries()) == ledger_before + 1
        entry = ledger_entries()[-1]
        assert (entry["type"], entry["project"], entry["actor"]) == ("incident.sla_breach", project.key, "celery:sla")
        event = incident.events.get(kind=IncidentEvent.Kind.SLA_BREACHED)
        assert event.ledger_entry_id == entry["id"]
        assert incident.history.count() == history_before + 1
        latest = incident.history.order_by("-history_id").first()
        assert latest.sla_breached_at == deadline
        assert latest.history_change_reason == "SLA breached (by celery:sla)"
        assert latest.history_user_id is None
        note = Notification.objects.get(kind="incident.sla_breach")
        assert note.recipient == responder_user
        # Twice: nobody is told twice, nothing is written.
        assert incident_sla_sweep(actor=sla_actor).sla_breached == 0
        assert Notification.objects.filter(kind="incident.sla_breach").count() == 1
        assert len(ledger_entries()) == ledger_before + 1
        assert incident.events.filter(kind=IncidentEvent.Kind.SLA_BREACHED).count() == 1


def test_unassigned_breach_goes_to_the_incident_responders(project, responder_user, staff_user, sla_actor):
    IncidentFactory(project=project, breached=True)
    incident_sla_sweep(actor=sla_actor)
    notes = Notification.objects.filter(kind="incident.sla_breach")
    assert list(notes.values_list("recipient__username", flat=True)) == ["responder"]


def test_escalation_to_the_caio_after_the_configured_delay(project, responder_user, caio_official, sla_actor):
    with time_machine.travel(T0, tick=False):
        incident = _log(responder_user, project, assigned_to=responder_user)
    breach = T0 + dt.timedelta(hours=72)
    with time_machine.travel(breach, tick=False):
        result = incident_sla_sweep(actor=sla_actor)
        assert (result.sla_breached, result.escalated) == (1, 0)
    with time_machine.travel(breach + dt.timedelta(hours=48) - dt.timedelta(seconds=1), tick=False):
        assert incident_sla_sweep(actor=sla_actor).escalated == 0
    with time_machine.travel(breach + dt.timedelta(hours=48), tick=False):
        assert incident_sla_sweep(actor=sla_actor).escalated == 1
        assert incident_sla_sweep(actor=sla_actor).escalated == 0
    incident.refresh_from_db()
    assert incident.sla_escalated_at == breach + dt.timedelta(hours=48)
    escalations = Notification.objects.filter(kind="incident.escalate")
    assert [n.recipient for n in escalations] == [caio_official]
    assert Notification.objects.filter(recipient=responder_user, kind="incident.sla_breach").count() == 1
    assert incident.events.filter(kind=IncidentEvent.Kind.ESCALATED).count() == 1


def test_resolved_in_time_is_not_flagged_and_late_resolution_records_the_breach(project, responder_user, sla_actor):
    with time_machine.travel(T0, tick=False):
        on_time = _log(responder_user, project)
        late = _log(responder_user, project)
        for incident in (on_time, late):
            life.incident_investigate(actor=responder_user, incident=incident)
        life.incident_resolve(actor=responder_user, incident=on_time, root_cause="Config")
    with time_machine.travel(T0 + dt.timedelta(hours=80), tick=False):
        life.incident_resolve(actor=responder_user, incident=late, root_cause="Config")
        assert incident_sla_sweep(actor=sla_actor).sla_breached == 0
    on_time.refresh_from_db()
    late.refresh_from_db()
    assert on_time.sla_breached_at is None
    assert not on_time.sla_breached
    assert late.sla_breached_at == T0 + dt.timedelta(hours=80)
    assert late.sla_breached


def test_severity_change_recomputes_the_deadline_and_clears_a_stale_breach(project, responder_user, sla_actor):
    with time_machine.travel(T0, tick=False):
        incident = _log(responder_user, project)
    with time_machine.travel(T0 + dt.timedelta(hours=73), tick=False):
        incident_sla_sweep(actor=sla_actor)
        svc.incident_change_severity(actor=responder_user, incident=incident, severity="high", reason="Contained")
    incident.refresh_from_db()
    assert incident.sla_due_at == T0 + dt.timedelta(hours=168)
    assert incident.sla_breached_at is None
    with time_machine.travel(T0 + dt.timedelta(hours=168), tick=False):
        assert incident_sla_sweep(actor=sla_actor).sla_breached == 1  # a new deadline, a new notice
    assert Notification.objects.filter(kind="incident.sla_breach").count() == 2


def test_eu_report_overdue_is_flagged_once_and_tells_owner_and_caio(project, responder_user, caio_official, sla_actor):
    with time_machine.travel(T0, tick=False):
        incident = _log(responder_user, project, severity="high", assigned_to=responder_user)
        coord.incident_flag_eu_serious(actor=responder_user, incident=incident, basis="widespread_infringement")
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        assert incident_sla_sweep(actor=sla_actor).eu_reports_overdue == 1
        assert incident_sla_sweep(actor=sla_actor).eu_reports_overdue == 0
    recipients = set(Notification.objects.filter(kind="incident.eu_report_overdue").values_list("recipient", flat=True))
    assert recipients == {responder_user.pk, caio_official.pk}


def test_overdue_corrective_action_tells_its_owner_once(project, responder_user, sla_actor):
    owner = UserFactory(username="owner")
    MembershipFactory(project=project, user=owner, role="reviewer")
    action = CorrectiveActionFactory(incident=IncidentFactory(project=project), owner=owner, due_date=T0.date())
    done = CorrectiveActionFactory(incident=action.incident, due_date=T0.date(), status=CorrectiveAction.Status.DONE)
    with time_machine.travel(T0 + dt.timedelta(days=1, hours=12), tick=False):
        assert incident_sla_sweep(actor=sla_actor).corrective_actions_overdue == 1
        assert incident_sla_sweep(actor=sla_actor).corrective_actions_overdue == 0
    action.refresh_from_db()
    done.refresh_from_db()
    assert action.overdue_notified_at is not None
    assert done.overdue_notified_at is None
    notes = Notification.objects.filter(kind="incident.corrective_action_overdue")
    assert list(notes.values_list("recipient", flat=True)) == [owner.pk]


def test_batches_are_taken_project_by_project_with_one_ledger_entry_each(project, responder_user, sla_actor):
    other = ProjectFactory(key="proj-777")
    for p in (project, other, project, other, project):
        IncidentFactory(project=p, breached=True)
    before = len(ledger_entries())
    assert incident_sla_sweep(actor=sla_actor, batch_size=2).sla_breached == 5
    # Each batch is the most overdue row's project: proj-123 [1st, 3rd], proj-777 [2nd, 4th], proj-123 [5th].
    assert [(e["type"], e["project"]) for e in ledger_entries()[before:]] == [
        ("incident.sla_breach", "proj-123"),
        ("incident.sla_breach", "proj-777"),
        ("incident.sla_breach", "proj-123"),
    ]
    assert Incident.objects.filter(sla_breached_at__isnull=False).count() == 5


def test_a_batch_takes_whole_projects_with_one_ledger_entry_per_project(project, responder_user, sla_actor):
    other = ProjectFactory(key="proj-777")
    incidents = [IncidentFactory(project=p, breached=True) for p in (project, other, project, other, project)]
    before = len(ledger_entries())
    with CaptureQueriesContext(connection) as queries:
        assert incident_sla_sweep(actor=sla_actor).sla_breached == 5
    # Both projects fit one batch: one UPDATE of the incidents, one ledger entry per project.
    updates = [q["sql"] for q in queries.captured_queries if 'UPDATE "accountability_incident"' in q["sql"]]
    assert len(updates) == 1
    entries = ledger_entries()[before:]
    assert [(e["type"], e["project"]) for e in entries] == [
        ("incident.sla_breach", "proj-123"),
        ("incident.sla_breach", "proj-777"),
    ]
    # Each incident's timeline row cites its own project's entry.
    entry_of = {e["project"]: e["id"] for e in entries}
    events = IncidentEvent.objects.filter(kind=IncidentEvent.Kind.SLA_BREACHED).select_related("incident__project")
    assert sorted((ev.incident_id, ev.ledger_entry_id) for ev in events) == sorted(
        (i.pk, entry_of[i.project.key]) for i in incidents
    )


def test_webhook_deliveries_are_created_once_per_breach(project, responder_user, sla_actor, settings):
    WebhookFactory(project=project, events=["incident.sla_breached"])
    WebhookFactory(project=project, events=["incident.logged"])
    IncidentFactory(project=project, breached=True)
    incident_sla_sweep(actor=sla_actor)
    incident_sla_sweep(actor=sla_actor)
    deliveries = WebhookDelivery.objects.filter(event="incident.sla_breached")
    assert deliveries.count() == 1
    assert deliveries.get().payload["data"]["id"].startswith("INC-")


def test_breach_e_mail_goes_out_once(project, responder_user, sla_actor, django_capture_on_commit_callbacks):
    IncidentFactory(project=project, breached=True)
    with django_capture_on_commit_callbacks(execute=True):
        incident_sla_sweep(actor=sla_actor)
    with django_capture_on_commit_callbacks(execute=True):
        incident_sla_sweep(actor=sla_actor)
    breach_mails = [m for m in mail.outbox if m.subject.startswith("SLA breached")]
    assert len(breach_mails) == 1
    assert breach_mails[0].to == [responder_user.email]


def test_only_system_actors_or_superusers_sweep(responder_user, superuser):
    with pytest.raises(NotAllowed):
        incident_sla_sweep(actor=responder_user)
    assert incident_sla_sweep(actor=superuser).sla_breached == 0
