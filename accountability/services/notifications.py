"""Notifications: in-app inbox rows now, e-mail after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accountability.exceptions import NotFound
from accountability.models import Notification


def notification_send(
    *,
    recipients: Iterable,
    kind: str,
    subject: str,
    body: str = "",
    url: str = "",
    project=None,
    dedupe_key: str = "",
    email: bool = True,
) -> list[Notification]:
    """Put a message in each recipient's inbox and e-mail it after commit; a repeated dedupe_key is a no-op."""
    sent = []
    for user in {u.pk: u for u in recipients if u is not None and u.is_active}.values():
        if dedupe_key and Notification.objects.filter(recipient=user, dedupe_key=dedupe_key).exists():
            continue
        try:
            with transaction.atomic():
                note = Notification.objects.create(
                    recipient=user,
                    project=project,
                    kind=kind,
                    subject=subject[:200],
                    body=body,
                    url=url,
                    dedupe_key=dedupe_key,
                )
        except IntegrityError:  # a concurrent sender won the dedupe race
            continue
        sent.append(note)
        if email and user.email:
            transaction.on_commit(
                lambda u=user: send_mail(
                    subject[:200],
                    f"{body}\n\n{url}".strip(),
                    settings.DEFAULT_FROM_EMAIL,
                    [u.email],
                    fail_silently=True,
                )
            )
    return sent


def notification_mark_read(*, actor, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read (others' are invisible)."""
    if notification.recipient_id != getattr(actor, "pk", None):
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification
