"""Fixtures of the incident, reassessment and notification tests."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accountability.actors import SystemActor
from accountability.ledger.models import LedgerEntry
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
    """Every ledger entry, oldest first, as {id, project, type, actor}: the one place these tests read the
    ledger's own schema (the ledger is rebuilt behind ``record_governance`` by issue 3)."""
    return [
        {"id": e.entry_id, "project": e.project_key, "type": e.action["type"], "actor": e.actor["human"]["name"]}
        for e in LedgerEntry.objects.order_by("seq")
    ]
