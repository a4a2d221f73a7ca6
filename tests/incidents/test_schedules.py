"""The beat schedule: sync creates missing entries, keeps staff edits, skips unregistered tasks; every
scheduled task is registered with acks_late."""

from __future__ import annotations

import json

import pytest
from celery import current_app
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from accountability.schedules import DEFAULT_SCHEDULES, BeatEntry

pytestmark = pytest.mark.django_db
OURS = {"incidents.sla_sweep", "reassessments.sweep", "webhooks.dispatch_due", "notifications.dispatch_pending"}
WORKFLOWS = {"workflow.fire_due_timers", "appeals.sla_sweep", "workflow.report_stalled"}
LEDGER = {"ledger.integrate_pending", "ledger.verify", "ledger.purge_expired"}


def sync(*args) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("sync_schedules", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_sync_creates_missing_and_keeps_staff_edits():
    first = sync()
    assert {PeriodicTask.objects.get(name=n).task for n in first["created"]} == OURS | WORKFLOWS | LEDGER
    assert first["skipped"] == []
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


def test_the_ledger_jobs_are_scheduled():
    sync()
    integrate = PeriodicTask.objects.get(task="ledger.integrate_pending")
    assert (integrate.interval.every, integrate.interval.period, json.loads(integrate.kwargs)) == (30, "seconds", {})
    verify = {json.loads(t.kwargs).get("full", False): t for t in PeriodicTask.objects.filter(task="ledger.verify")}
    assert set(verify) == {False, True}
    assert (verify[False].interval.every, verify[False].interval.period) == (3600, "seconds")  # incremental
    weekly = verify[True].crontab
    assert (weekly.minute, weekly.hour, weekly.day_of_week, weekly.day_of_month) == ("0", "4", "0", "*")
    purge = PeriodicTask.objects.get(task="ledger.purge_expired").crontab
    assert (purge.minute, purge.hour, purge.day_of_week) == ("30", "3", "*")


def test_a_task_registered_later_joins_on_the_next_sync(monkeypatch):
    future = BeatEntry("icdev: future sweep", "future.sweep", every_seconds=600, kwargs={"limit": 10})
    monkeypatch.setattr("accountability.management.commands.sync_schedules.DEFAULT_SCHEDULES", [future])
    report = sync()
    assert report["skipped"] == [{"name": "icdev: future sweep", "task": "future.sweep", "why": "task not registered"}]
    assert not PeriodicTask.objects.filter(task="future.sweep").exists()

    @current_app.task(name="future.sweep")
    def sweep(limit=0):  # stands in for a capability's task registered in a later release
        return 0

    try:
        report = sync()
        assert report["created"] == ["icdev: future sweep"]
        entry = PeriodicTask.objects.get(task="future.sweep")
        assert (entry.interval.every, json.loads(entry.kwargs)) == (600, {"limit": 10})
    finally:
        current_app.tasks.pop("future.sweep", None)


def test_every_scheduled_task_of_ours_is_registered_and_acks_late():
    # autodiscover_tasks() is lazy: import every app's tasks module as a worker does at start, so the
    # outcome does not depend on which tests ran earlier in this process.
    current_app.loader.import_default_modules()
    names = {e.task for e in DEFAULT_SCHEDULES} & set(current_app.tasks)
    assert names == OURS | WORKFLOWS | LEDGER
    for name in OURS | LEDGER | {"webhooks.deliver", "notifications.send_email", "incidents.email_stakeholders"}:
        task = current_app.tasks[name]
        assert task.acks_late is True, name
