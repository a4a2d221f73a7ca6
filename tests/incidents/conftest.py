"""Fixtures of the incident, reassessment and notification tests."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accountability.actors import SystemActor
from accountability.ledger.models import LedgerEntry
from accountability.ledger.selectors.explain import PersonNames
from accountability.ledger.services.integration import integrate_pending
from accountability.models import Incident

from .factories import IncidentFactory, UseCaseFactory

SLA = SystemActor("celery:sla")


@pytest.fixture
def sla_actor():
    return SLA


@pytest.fixture
def use_case(project):
    return UseCaseFactory(project=project, name="Eligibility screener")


@pytest.fixture
def incident(project):
    return IncidentFactory(project=project)


@pytest.fixture
def make_incident(project):
    def make(status=Incident.Status.OPEN, **kw):
        extra = {}
        if status in (Incident.Status.RESOLVED, Incident.Status.CLOSED):
            extra = {"root_cause": "Training data gap", "resolved_at": timezone.now()}
        if status == Incident.Status.CLOSED:
            extra.update(lessons_learned="Add validation", closed_at=extra["resolved_at"])
        return IncidentFactory(project=kw.pop("project", project), status=status, **extra, **kw)

    return make


def ledger_entries() -> list[dict]:
    """Every ledger entry but the genesis entry, in log order, as {id, project, type, actor}: the one place
    these tests read the ledger's own schema. Queued entries (PostgreSQL) are integrated first; a person
    (stored as an HMAC token) is shown by username, a system actor by its name."""
    integrate_pending()
    names = PersonNames()
    entries = []
    for e in LedgerEntry.objects.filter(seq__gt=0).order_by("seq"):
        actor = e.document["actor"]
        who = names.name(actor["id"]) if actor["kind"] == "user" else actor["id"]
        entries.append({"id": e.entry_id, "project": e.project_key, "type": e.action_type, "actor": who})
    return entries
