"""The beat schedule: sync creates missing entries, keeps staff edits, skips unregistered tasks; every
scheduled task is registered with acks_late."""

from __future__ import annotations

import json

import pytest
from celery import current_app
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from accountability.schedules import DEFAULT_SCHEDULES

pytestmark = pytest.mark.django_db
OURS = {"incidents.sla_sweep", "reassessments.sweep", "webhooks.dispatch_due", "notifications.dispatch_pending"}
WORKFLOWS = {"workflow.fire_due_timers", "appeals.sla_sweep", "workflow.report_stalled"}


def sync(*args) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("sync_schedules", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_sync_creates_missing_and_keeps_staff_edits():
    first = sync()
    assert {PeriodicTask.objects.get(name=n).task for n in first["created"]} == OURS | WORKFLOWS
    assert {s["task"] for s in first["skipped"]} == {"ledger.purge_expired"}
    sweep = PeriodicTask.objects.get(task="incidents.sla_sweep")
    assert sweep.interval.every == 300
    # Staff slow the sweep down and disable the reassessment sweep in the admin.
    sweep.interval = type(sweep.interval).objects.create(every=600, period="seconds")
    sweep.save()
    PeriodicTask.objects.filter(task="reassessments.sweep").update(enabled=False)
    second = sync()
    assert (second["created"], sorted(second["kept"])) == ([], sorted(first["created"]))
    assert PeriodicTask.objects.get(task="incidents.sla_sweep").interval.every == 600
    assert PeriodicTask.objects.get(task="reassessments.sweep").enabled is False
    third = sync("--reset")
    assert sorted(third["reset"]) == sorted(first["created"])
    assert PeriodicTask.objects.get(task="incidents.sla_sweep").interval.every == 300
    assert PeriodicTask.objects.get(task="reassessments.sweep").enabled is True


def test_a_task_registered_later_joins_on_the_next_sync():
    sync()

    @current_app.task(name="ledger.purge_expired")
    def purge():  # stands in for the ledger's task (issue 3)
        return 0

    try:
        report = sync()
        assert report["created"] == ["icdev: ledger retention purge"]
        entry = PeriodicTask.objects.get(task="ledger.purge_expired")
        assert (entry.crontab.minute, entry.crontab.hour) == ("30", "3")
    finally:
        current_app.tasks.pop("ledger.purge_expired", None)


def test_every_scheduled_task_of_ours_is_registered_and_acks_late():
    names = {e.task for e in DEFAULT_SCHEDULES} & set(current_app.tasks)
    assert names == OURS | WORKFLOWS
    for name in OURS | {"webhooks.deliver", "notifications.send_email", "incidents.email_stakeholders"}:
        task = current_app.tasks[name]
        assert task.acks_late is True, name
