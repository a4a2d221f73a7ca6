"""Celery tasks: thin, idempotent wrappers around services. Names are stable (beat refers to them)."""

from __future__ import annotations

from celery import shared_task
from viewflow.workflow.timers import fire_due_timers

from accountability.actors import SystemActor
from accountability.services import appeal_sla
from accountability.services import workflow as workflow_svc


@shared_task(name="workflow.fire_due_timers", ignore_result=True)
def workflow_fire_due_timers_task() -> int:
    """Fire viewflow's due database timers (appeal assignment SLAs, ethics scoring timeouts); every minute."""
    return fire_due_timers()


@shared_task(name="appeals.sla_sweep", ignore_result=True)
def appeal_sla_sweep_task() -> dict:
    """Safety net behind the flow timers: flag and notify missed appeal deadlines once each."""
    return appeal_sla.appeal_sla_sweep(actor=SystemActor("celery:appeal-sla"))


@shared_task(name="workflow.report_stalled", ignore_result=True)
def workflow_report_stalled_task() -> int:
    """Tell governance staff about workflow steps that failed in the background."""
    return workflow_svc.workflow_report_stalled(actor=SystemActor("celery:workflow"))
