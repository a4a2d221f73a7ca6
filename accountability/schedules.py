"""The default beat schedule. ``manage.py sync_schedules`` creates the missing entries as
django-celery-beat PeriodicTasks and never changes existing ones, so staff edits in the admin
(interval, enabled, arguments) survive every deploy and every ``make run``.

To add a periodic job, register a task with a stable ``name=`` and add one ``BeatEntry`` here. Entries
whose task is not registered (yet) are skipped with a note, so other capabilities can be declared
before their task exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BeatEntry:
    name: str  # PeriodicTask.name: unique and stable, it is how sync finds the entry again
    task: str  # the Celery task name
    every_seconds: int | None = None  # an interval ...
    crontab: str | None = None  # ... or "minute hour day_of_month month_of_year day_of_week"
    description: str = ""
    kwargs: dict = field(default_factory=dict)  # keyword arguments of the task (JSON)


DEFAULT_SCHEDULES: list[BeatEntry] = [
    BeatEntry(
        "icdev: incident SLA sweep",
        "incidents.sla_sweep",
        every_seconds=300,
        description="SLA breaches, CAIO escalations, late EU Art. 73 reports, overdue corrective actions.",
    ),
    BeatEntry(
        "icdev: reassessment sweep",
        "reassessments.sweep",
        every_seconds=900,
        description="Reassessments that became due or overdue; CAIO escalations.",
    ),
    BeatEntry(
        "icdev: webhook deliveries",
        "webhooks.dispatch_due",
        every_seconds=60,
        description="First attempts and backoff retries of outgoing webhooks.",
    ),
    BeatEntry(
        "icdev: pending e-mails",
        "notifications.dispatch_pending",
        every_seconds=300,
        description="E-mail copies of inbox messages not sent yet (bulk sends, broker outages).",
    ),
    # Appeals and ethics reviews (issue 5).
    BeatEntry(
        "icdev: workflow timers",
        "workflow.fire_due_timers",
        every_seconds=60,
        description="viewflow's database timers: appeal assignment SLAs, ethics scoring timeouts.",
    ),
    BeatEntry(
        "icdev: appeal SLA sweep",
        "appeals.sla_sweep",
        every_seconds=900,
        description="Safety net behind the flow timers: missed appeal deadlines, flagged and notified once.",
    ),
    BeatEntry(
        "icdev: stalled workflow steps",
        "workflow.report_stalled",
        every_seconds=900,
        description="Workflow steps that failed in the background, reported to governance staff.",
    ),
    # The ledger (issue 3).
    BeatEntry(
        "icdev: ledger integration",
        "ledger.integrate_pending",
        every_seconds=30,
        description="Safety net behind the ledger_integrate daemon: sequence queued entries, sign a checkpoint.",
    ),
    BeatEntry(
        "icdev: ledger verification",
        "ledger.verify",
        every_seconds=3600,
        description="Incremental verification of the entries since the last verified checkpoint; failures alert.",
    ),
    BeatEntry(
        "icdev: ledger full verification",
        "ledger.verify",
        crontab="0 4 * * 0",
        description="Weekly full verification of the whole ledger (Sunday 04:00); failures alert.",
        kwargs={"full": True},
    ),
    BeatEntry(
        "icdev: ledger retention purge",
        "ledger.purge_expired",
        crontab="30 3 * * *",
        description="Purge ledger payloads past their retention period.",
    ),
]
