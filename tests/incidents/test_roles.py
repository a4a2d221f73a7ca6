"""The role matrix of every write: the right roles may, the wrong ones get NotAllowed, another project's
user gets NotFound; a denial changes nothing and writes no ledger entry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accountability.exceptions import NotAllowed, NotFound
from accountability.models import Incident, IncidentStakeholderNotice, ReassessmentSchedule, Webhook
from accountability.services import (
    incident_actions,
    incident_coordination,
    incident_lifecycle,
    incidents,
    reassessments,
    webhooks,
)
from tests.factories import StakeholderFactory

from .factories import CorrectiveActionFactory, IncidentFactory, ScheduleFactory, WebhookFactory

pytestmark = pytest.mark.django_db
ROLES = [
    "governance_staff",
    "caio",
    "reviewer",
    "ethics_board",
    "incident_responder",
    "auditor",
    "appellant",
    "outsider",
]
REPORTERS = {"governance_staff", "caio", "reviewer", "ethics_board", "incident_responder"}
RESPONDERS = {"governance_staff", "caio", "incident_responder"}
SCHEDULERS = {"governance_staff", "caio"}
WEBHOOK_ADMINS = {"governance_staff"}


def _state(ctx):
    """Everything a denied write could have touched."""
    incident = Incident.objects.get(pk=ctx["incident"].pk)
    schedule = ReassessmentSchedule.objects.get(pk=ctx["schedule"].pk)
    return (
        Incident.objects.count(),
        incident.status,
        incident.severity,
        incident.assigned_to_id,
        incident.eu_serious,
        incident.events.count(),
        incident.corrective_actions.count(),
        list(incident.corrective_actions.values_list("status", flat=True)),
        ReassessmentSchedule.objects.count(),
        schedule.next_due,
        schedule.frequency_days,
        schedule.completions.count(),
        list(IncidentStakeholderNotice.objects.values_list("acknowledged_at", flat=True)),
        Webhook.objects.count(),
    )


OPERATIONS = {
    "incident_log": (
        REPORTERS,
        lambda a, c: incidents.incident_log(actor=a, project=c["project"], title="New", severity="low"),
    ),
    "incident_update": (
        RESPONDERS,
        lambda a, c: incidents.incident_update(actor=a, incident=c["incident"], impacts="Wrong denials"),
    ),
    "incident_investigate": (
        RESPONDERS,
        lambda a, c: incident_lifecycle.incident_investigate(actor=a, incident=c["incident"]),
    ),
    "incident_change_severity": (
        RESPONDERS,
        lambda a, c: incidents.incident_change_severity(actor=a, incident=c["incident"], severity="low", reason="r"),
    ),
    "incident_assign": (
        RESPONDERS,
        lambda a, c: incidents.incident_assign(actor=a, incident=c["incident"], assignee=c["responder"]),
    ),
    "incident_add_note": (
        RESPONDERS,
        lambda a, c: incidents.incident_add_note(actor=a, incident=c["incident"], text="n"),
    ),
    "incident_link_record": (
        RESPONDERS,
        lambda a, c: incidents.incident_link_record(
            actor=a, incident=c["incident"], record_type="appeal", record_id="APL-00001"
        ),
    ),
    "corrective_action_add": (
        RESPONDERS,
        lambda a, c: incident_actions.corrective_action_add(
            actor=a, incident=c["incident"], description="Fix", due_date=timezone.localdate(), owner_name="Ops"
        ),
    ),
    "corrective_action_set_status": (
        RESPONDERS,
        lambda a, c: incident_actions.corrective_action_set_status(actor=a, action=c["action"], status="in_progress"),
    ),
    "incident_flag_eu_serious": (
        RESPONDERS,
        lambda a, c: incident_coordination.incident_flag_eu_serious(actor=a, incident=c["incident"], basis="general"),
    ),
    "incident_record_stakeholder_ack": (
        RESPONDERS,
        lambda a, c: incident_coordination.incident_record_stakeholder_ack(
            actor=a, notice=c["notice"], acknowledged_by_name="Vendor PM"
        ),
    ),
    "reassessment_create": (
        SCHEDULERS,
        lambda a, c: reassessments.reassessment_create(
            actor=a, project=c["project"], assessment_type="security_review", frequency_days=30
        ),
    ),
    "reassessment_update": (
        SCHEDULERS,
        lambda a, c: reassessments.reassessment_update(actor=a, schedule=c["schedule"], frequency_days=60),
    ),
    "reassessment_complete": (
        SCHEDULERS,
        lambda a, c: reassessments.reassessment_complete(actor=a, schedule=c["schedule"]),
    ),
    "reassessment_significant_modification": (
        SCHEDULERS,
        lambda a, c: reassessments.reassessment_significant_modification(
            actor=a, use_case=c["schedule"].use_case, description="Retrained"
        ),
    ),
    "webhook_create": (
        WEBHOOK_ADMINS,
        lambda a, c: webhooks.webhook_create(
            actor=a, project=c["project"], name="SIEM", url="https://siem.example.gov/h"
        ),
    ),
    "webhook_rotate_secret": (
        WEBHOOK_ADMINS,
        lambda a, c: webhooks.webhook_rotate_secret(actor=a, webhook=c["webhook"]),
    ),
}


@pytest.fixture
def ctx(project, responder_user):
    incident = IncidentFactory(project=project)
    schedule = ScheduleFactory(project=project, next_due=timezone.localdate() + dt.timedelta(days=40))
    party = StakeholderFactory(use_case=schedule.use_case)
    notice = IncidentStakeholderNotice.objects.create(
        project=project, incident=incident, stakeholder=party, due_at=timezone.now(), notified_at=timezone.now()
    )
    return {
        "project": project,
        "incident": incident,
        "schedule": schedule,
        "notice": notice,
        "action": CorrectiveActionFactory(incident=incident),
        "webhook": WebhookFactory(project=project),
        "responder": responder_user,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_role_matrix(operation, role, persona, ctx, ledger_count):
    allowed, call = OPERATIONS[operation]
    actor = persona(role)
    before_ledger, before_state = ledger_count(), _state(ctx)
    if role in allowed:
        call(actor, ctx)
        assert ledger_count() > before_ledger
        return
    with pytest.raises(NotFound if role == "outsider" else NotAllowed):
        call(actor, ctx)
    assert ledger_count() == before_ledger
    assert _state(ctx) == before_state


def test_the_owner_of_a_corrective_action_may_move_it(project, reviewer_user):
    action = CorrectiveActionFactory(incident=IncidentFactory(project=project), owner=reviewer_user)
    incident_actions.corrective_action_set_status(actor=reviewer_user, action=action, status="done")
    action.refresh_from_db()
    assert action.status == "done"
    other = CorrectiveActionFactory(incident=action.incident)
    with pytest.raises(NotAllowed):
        incident_actions.corrective_action_set_status(actor=reviewer_user, action=other, status="done")
