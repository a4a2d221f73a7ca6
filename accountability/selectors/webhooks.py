"""Reads of webhooks and their delivery log."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from accountability.models import Project, Webhook, WebhookDelivery
from accountability.permissions import Perm

from ._scope import get_by_public_id, scoped


def webhook_list(actor, project: Project | None = None) -> QuerySet[Webhook]:
    """Webhooks of the projects whose webhooks the actor manages."""
    return scoped(Webhook.objects.select_related("project"), actor, Perm.WEBHOOK_MANAGE, project)


def webhook_get(actor, public_id: str) -> Webhook:
    """One webhook by its public id (``WH-00001``)."""
    return get_by_public_id(Webhook, webhook_list(actor), public_id)


def webhook_delivery_list(actor, project: Project | None = None) -> QuerySet[WebhookDelivery]:
    """The delivery log of the projects whose webhooks the actor manages."""
    qs = WebhookDelivery.objects.select_related("webhook", "project")
    return scoped(qs, actor, Perm.WEBHOOK_MANAGE, project)


def webhook_delivery_due_ids(*, limit: int = 200) -> list[int]:
    """Ids of deliveries due now (first attempts and retries whose backoff passed), oldest first (system use)."""
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .exclude(claimed_until__gt=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
