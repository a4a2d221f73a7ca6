"""Two sweeps at once (beat overlapping a slow run, or two beat processes by mistake) share the work through
FOR UPDATE SKIP LOCKED: every incident is flagged, and every assignee told, exactly once. PostgreSQL only.

On PostgreSQL the ledger queues appends for the integrator instead of serialising them, so neither sweep
fails on the ledger; a batch that still lost a race would roll back whole and the next beat run would
take it, which the final sweep checks."""

from __future__ import annotations

import threading

import pytest
from celery._state import _set_task_join_will_block, task_join_will_block
from django.db import connection

from accountability.actors import SystemActor
from accountability.models import Incident, IncidentEvent, Notification
from accountability.services.incident_sweep import incident_sla_sweep

from .factories import IncidentFactory, ProjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_sweeps_flag_and_notify_each_incident_once(responder_user, project):
    other = ProjectFactory(key="proj-778")
    for i in range(12):
        IncidentFactory(project=project if i % 2 else other, breached=True, assigned_to=responder_user)
    barrier, results, errors = threading.Barrier(2), [], []

    def sweep():
        try:
            barrier.wait(timeout=10)
            results.append(incident_sla_sweep(actor=SystemActor("celery:sla"), batch_size=2).sla_breached)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    join_flag = task_join_will_block()
    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # The sweeps' e-mails run as eager tasks in both threads at once, and Celery's process-wide "inside a
    # task" flag is not thread-safe: restore it, or a later test's result.get() in this process refuses.
    _set_task_join_will_block(join_flag)
    assert errors == []
    results.append(incident_sla_sweep(actor=SystemActor("celery:sla")).sla_breached)  # the next beat run
    assert sum(results) == 12
    assert Incident.objects.filter(sla_breached_at__isnull=False).count() == 12
    assert IncidentEvent.objects.filter(kind=IncidentEvent.Kind.SLA_BREACHED).count() == 12
    assert Notification.objects.filter(kind="incident.sla_breach").count() == 12
