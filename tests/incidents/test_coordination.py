"""Stakeholder coordination (seed 000), EU AI Act Art. 73 deadlines, GV-4.3-002 completeness, the record,
corrective actions and links on the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.models import IncidentEvent
from accountability.rules.incidents import gv_4_3_002_completeness
from accountability.services import incident_actions as actions
from accountability.services import incident_coordination as coord
from accountability.services import incidents as svc
from tests.factories import ObligationFactory, StakeholderFactory

from .factories import IncidentFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def parties(use_case):
    vendor = StakeholderFactory(use_case=use_case, name="Acme", contact_email="support@acme.example.com")
    ObligationFactory(stakeholder=vendor, sla_metric="incident_notification_hours", sla_target=24)
    ObligationFactory(stakeholder=vendor, sla_metric="incident_notification_hours", sla_target=8, status="waived")
    integrator = StakeholderFactory(use_case=use_case, name="ISI", role="system_integrator", contact_email="")
    StakeholderFactory(use_case=use_case, name="Former", is_active=False, contact_email="x@example.com")
    return vendor, integrator


def test_parties_are_told_within_their_contractual_hours(
    parties, use_case, project, responder_user, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        incident = svc.incident_log(
            actor=responder_user, project=project, title="Bias", severity="high", use_cases=[use_case]
        )
    notices = {n.stakeholder.name: n for n in incident.stakeholder_notices.all()}
    assert set(notices) == {"Acme", "ISI"}  # inactive parties are not told
    assert notices["Acme"].due_at == T0 + dt.timedelta(hours=24)  # the active obligation, not the waived one
    assert notices["ISI"].due_at == T0 + dt.timedelta(hours=72)  # configured default
    assert (notices["Acme"].notified_at, notices["Acme"].channel) == (T0, "email")
    assert notices["ISI"].notified_at is None  # no address: staff record how they told it
    assert [m.to for m in mail.outbox] == [["support@acme.example.com"]]
    assert incident.events.filter(kind=IncidentEvent.Kind.STAKEHOLDER_NOTIFIED).count() == 1
    with time_machine.travel(T0 + dt.timedelta(hours=80), tick=False):
        coord.incident_record_stakeholder_notice(actor=responder_user, notice=notices["ISI"], channel="phone")
    notices["ISI"].refresh_from_db()
    assert notices["ISI"].is_late
    assert "(late)" in incident.events.filter(kind=IncidentEvent.Kind.STAKEHOLDER_NOTIFIED).last().message


def test_acknowledgement_rules(parties, use_case, project, responder_user, ledger_count):
    incident = svc.incident_log(
        actor=responder_user, project=project, title="Bias", severity="high", use_cases=[use_case]
    )
    vendor_notice = incident.stakeholder_notices.get(stakeholder__name="Acme")
    isi_notice = incident.stakeholder_notices.get(stakeholder__name="ISI")
    before = ledger_count()
    with pytest.raises(InvalidTransition, match="not been informed"):
        coord.incident_record_stakeholder_ack(actor=responder_user, notice=isi_notice, acknowledged_by_name="PM")
    with pytest.raises(ValidationFailed):
        coord.incident_record_stakeholder_ack(actor=responder_user, notice=vendor_notice, acknowledged_by_name=" ")
    assert ledger_count() == before
    coord.incident_record_stakeholder_ack(
        actor=responder_user, notice=vendor_notice, acknowledged_by_name="R. Alvarez", acknowledgement="On it"
    )
    with pytest.raises(InvalidTransition, match="acknowledged"):
        coord.incident_record_stakeholder_ack(actor=responder_user, notice=vendor_notice, acknowledged_by_name="Again")
    assert ledger_count() == before + 1


def test_adding_a_use_case_later_creates_its_notices(parties, use_case, project, responder_user):
    incident = svc.incident_log(actor=responder_user, project=project, title="Drift", severity="low")
    assert not incident.stakeholder_notices.exists()
    svc.incident_update(actor=responder_user, incident=incident, use_cases=[use_case])
    assert incident.stakeholder_notices.count() == 2


@pytest.mark.parametrize(
    ("basis", "days"), [("general", 15), ("death", 10), ("widespread_infringement", 2), ("critical_infrastructure", 2)]
)
def test_eu_art_73_deadlines(basis, days, project, responder_user):
    incident = IncidentFactory(project=project)
    aware = T0 - dt.timedelta(hours=5)
    with time_machine.travel(T0, tick=False):
        coord.incident_flag_eu_serious(actor=responder_user, incident=incident, basis=basis, aware_at=aware)
    incident.refresh_from_db()
    assert (incident.eu_serious, incident.eu_basis, incident.eu_report_due_at) == (
        True,
        basis,
        aware + dt.timedelta(days=days),
    )


def test_eu_reclassification_notifications_and_finality(project, responder_user):
    incident = IncidentFactory(project=project)
    with time_machine.travel(T0, tick=False):
        with pytest.raises(InvalidTransition):
            coord.incident_record_eu_notification(actor=responder_user, incident=incident, party="provider")
        coord.incident_flag_eu_serious(actor=responder_user, incident=incident, basis="general")
        coord.incident_flag_eu_serious(actor=responder_user, incident=incident, basis="death")  # a death came to light
    incident.refresh_from_db()
    assert incident.eu_report_due_at == T0 + dt.timedelta(days=10)  # still from when we became aware
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        coord.incident_record_eu_notification(actor=responder_user, incident=incident, party="provider")
        coord.incident_record_eu_notification(
            actor=responder_user, incident=incident, party="authority", reference="MSA-2026-17"
        )
        with pytest.raises(InvalidTransition):
            coord.incident_record_eu_notification(actor=responder_user, incident=incident, party="authority")
        with pytest.raises(InvalidTransition, match="final"):
            coord.incident_clear_eu_serious(actor=responder_user, incident=incident, reason="no causal link")
    incident.refresh_from_db()
    assert incident.eu_provider_notified_at == T0 + dt.timedelta(days=1)
    assert incident.eu_authority_reference == "MSA-2026-17"


def test_eu_flag_validation(project, responder_user, ledger_count):
    incident = IncidentFactory(project=project)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        coord.incident_flag_eu_serious(
            actor=responder_user, incident=incident, basis="rumour", aware_at=dt.datetime(2999, 1, 1, tzinfo=dt.UTC)
        )
    assert set(exc.value.errors) == {"basis", "aware_at"}
    assert ledger_count() == before


def test_gv_4_3_002_completeness(project, use_case):
    incident = IncidentFactory(project=project, description="", reporter_name="", source="")
    report = gv_4_3_002_completeness(incident)
    assert report.percent == 11  # only the title
    assert not report.complete
    incident.use_cases.add(use_case)
    incident.description, incident.reporter_name, incident.source = "What happened", "Ana", "Monitoring"
    incident.data_reported, incident.impacts, incident.stakeholders_impacted = "Logs", "Denials", "Applicants"
    incident.detected_at = T0
    report = gv_4_3_002_completeness(incident)
    assert (report.percent, report.complete, report.missing) == (100, True, [])


def test_record_update_validation_and_closed_freeze(project, use_case, other_project, responder_user, ledger_count):
    incident = IncidentFactory(project=project)
    foreign = type(use_case).objects.create(project=other_project, name="Elsewhere")
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        svc.incident_update(
            actor=responder_user,
            incident=incident,
            use_cases=[foreign],
            occurred_at=T0,
            detected_at=T0 - dt.timedelta(days=1),
        )
    assert set(exc.value.errors) == {"use_cases", "occurred_at"}
    with pytest.raises(ValidationFailed):
        svc.incident_update(actor=responder_user, incident=incident, status="closed")
    assert ledger_count() == before
    svc.incident_update(actor=responder_user, incident=incident, impacts="Wrong denials", use_cases=[use_case])
    assert ledger_count() == before + 1
    assert svc.incident_update(actor=responder_user, incident=incident, impacts="Wrong denials") is not None
    assert ledger_count() == before + 1  # nothing changed, nothing written
    closed = IncidentFactory(
        project=project, status="closed", root_cause="x", lessons_learned="y", resolved_at=T0, closed_at=T0
    )
    with pytest.raises(InvalidTransition):
        svc.incident_update(actor=responder_user, incident=closed, impacts="late edit")


def test_corrective_action_lifecycle(project, responder_user, reviewer_user):
    incident = IncidentFactory(project=project)
    with pytest.raises(ValidationFailed) as exc:
        actions.corrective_action_add(
            actor=responder_user, incident=incident, description="", due_date=dt.date(2000, 1, 1)
        )
    assert set(exc.value.errors) == {"description", "due_date", "owner"}
    action = actions.corrective_action_add(
        actor=responder_user,
        incident=incident,
        description="Retrain",
        due_date=dt.date(2099, 1, 1),
        owner=reviewer_user,
    )
    assert action.owner_name == reviewer_user.get_username()
    with pytest.raises(ValidationFailed):
        actions.corrective_action_set_status(actor=responder_user, action=action, status="cancelled")
    actions.corrective_action_set_status(actor=responder_user, action=action, status="done")
    with pytest.raises(ValidationFailed):
        actions.corrective_action_set_status(actor=responder_user, action=action, status="in_progress")
    actions.corrective_action_set_status(actor=responder_user, action=action, status="in_progress", note="Regressed")
    actions.corrective_action_set_status(actor=responder_user, action=action, status="cancelled", note="Superseded")
    with pytest.raises(InvalidTransition):
        actions.corrective_action_set_status(actor=responder_user, action=action, status="open")
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds.count("action_status") == 3


def test_links_and_notes_carry_ledger_ids(project, responder_user):
    incident = IncidentFactory(project=project)
    svc.incident_link_record(actor=responder_user, incident=incident, record_type="appeal", record_id="APL-00007")
    svc.incident_add_note(actor=responder_user, incident=incident, text="Called the vendor")
    with pytest.raises(ValidationFailed):
        svc.incident_link_record(actor=responder_user, incident=incident, record_type="tweet", record_id="1")
    link = incident.events.get(kind=IncidentEvent.Kind.LINKED)
    assert link.related == {"appeal": "APL-00007"}
    assert link.ledger_entry_id.startswith("LED-")
    assert incident.events.get(kind=IncidentEvent.Kind.NOTE).message == "Called the vendor"
