"""Fixtures of the incident, reassessment and notification tests."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accountability.actors import SystemActor
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
