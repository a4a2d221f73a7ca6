"""Celery tasks: thin wrappers that load by id and call one service. Names are stable (beat entries and
queued messages refer to them); every task is idempotent and acknowledged late (CELERY_TASK_ACKS_LATE), so
a redelivery after a worker crash repeats nothing that already committed."""

from __future__ import annotations

from celery import shared_task
from viewflow.workflow.timers import fire_due_timers

from accountability.actors import SystemActor
from accountability.selectors.webhooks import webhook_delivery_due_ids
from accountability.services import (
    appeal_sla,
    incident_coordination,
    incident_sweep,
    notifications,
    reassessment_sweep,
    webhooks,
)
from accountability.services import workflow as workflow_svc

SLA_ACTOR = SystemActor("celery:sla")
REASSESSMENT_ACTOR = SystemActor("celery:reassessments")
TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True}


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


@shared_task(name="incidents.sla_sweep", **TASK_OPTIONS)
def incident_sla_sweep_task() -> dict:
    """Flag SLA breaches, CAIO escalations, late EU reports and overdue corrective actions (once each)."""
    return incident_sweep.incident_sla_sweep(actor=SLA_ACTOR).as_dict()


@shared_task(name="reassessments.sweep", **TASK_OPTIONS)
def reassessment_sweep_task() -> dict:
    """Flag reassessments that became due or overdue, and escalate old overdue ones (once each)."""
    return reassessment_sweep.reassessment_sweep(actor=REASSESSMENT_ACTOR).as_dict()


@shared_task(name="notifications.send_email", **TASK_OPTIONS)
def notification_email_send_task(notification_id: int) -> bool:
    """Send the e-mail copy of one inbox message (at most once)."""
    return notifications.notification_email_send(notification_id=notification_id)


@shared_task(name="notifications.dispatch_pending", **TASK_OPTIONS)
def notification_email_dispatch_task() -> int:
    """Send pending e-mail copies (bulk sends, and any a lost task left behind)."""
    return notifications.notification_email_dispatch_pending()


@shared_task(name="incidents.email_stakeholders", **TASK_OPTIONS)
def incident_stakeholder_emails_task(notice_ids: list[int]) -> int:
    """E-mail the stakeholder parties whose notices were recorded."""
    return incident_coordination.incident_stakeholder_emails_send(notice_ids=notice_ids)


@shared_task(name="webhooks.deliver", **TASK_OPTIONS)
def webhook_deliver_task(delivery_id: int) -> str:
    """Attempt one webhook delivery; a failure is retried later by ``webhooks.dispatch_due`` with backoff."""
    return webhooks.webhook_deliver(delivery_id=delivery_id).status


@shared_task(name="webhooks.dispatch_due", **TASK_OPTIONS)
def webhook_dispatch_due_task() -> int:
    """Queue every delivery that is due (first attempts, and retries whose backoff has passed)."""
    ids = webhook_delivery_due_ids()
    for delivery_id in ids:
        webhook_deliver_task.delay(delivery_id)
    return len(ids)
