"""Notifications: in-app inbox rows now, the e-mail copy after commit (at most once per message)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accountability.exceptions import NotFound
from accountability.models import Notification

from ._bulk import insert_rows
from ._dispatch import enqueue_on_commit

log = logging.getLogger(__name__)
EmailStatus = Notification.EmailStatus
EMAIL_TASK = "notifications.send_email"
EMAIL_DISPATCH_TASK = "notifications.dispatch_pending"


@dataclass(frozen=True)
class Message:
    """One inbox message for the bulk sender (the sweeps)."""

    recipient_id: int
    kind: str
    subject: str
    body: str = ""
    url: str = ""
    project_id: int | None = None
    dedupe_key: str = ""
    email: bool = True


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
                    email_status=EmailStatus.PENDING if email and user.email else EmailStatus.NONE,
                )
        except IntegrityError:  # a concurrent sender won the dedupe race
            continue
        sent.append(note)
        if note.email_status == EmailStatus.PENDING:
            enqueue_on_commit(EMAIL_TASK, note.pk)
    return sent


def notification_send_bulk(messages: Sequence[Message]) -> int:
    """Insert many inbox messages at once (sweeps), skipping known dedupe keys; e-mails go out after commit."""
    if not messages:
        return 0
    keys = {m.dedupe_key for m in messages if m.dedupe_key}
    recipient_ids = {m.recipient_id for m in messages}
    # On PostgreSQL the insert itself skips known keys (ON CONFLICT on the unique index) and returns what it
    # inserted; elsewhere bulk_create cannot tell, so known keys are looked up first.
    probe = bool(keys) and connection.vendor != "postgresql"
    # recipient + non-empty key: the shape of the partial unique index, so this stays an index probe
    existing = (
        set(
            Notification.objects.filter(recipient_id__in=recipient_ids, dedupe_key__in=keys)
            .exclude(dedupe_key="")
            .values_list("recipient_id", "dedupe_key")
        )
        if probe
        else set()
    )
    users = dict(get_user_model().objects.filter(pk__in=recipient_ids, is_active=True).values_list("pk", "email"))
    rows, seen = [], set()
    for m in messages:
        ident = (m.recipient_id, m.dedupe_key)
        if m.recipient_id not in users or (m.dedupe_key and (ident in existing or ident in seen)):
            continue
        seen.add(ident)
        rows.append(
            {
                "recipient_id": m.recipient_id,
                "project_id": m.project_id,
                "kind": m.kind,
                "subject": m.subject[:200],
                "body": m.body,
                "url": m.url,
                "dedupe_key": m.dedupe_key,
                "email_status": EmailStatus.PENDING if m.email and users[m.recipient_id] else EmailStatus.NONE,
            }
        )
    # One statement for a sweep's whole batch; the e-mail status of each row actually inserted.
    inserted = insert_rows(Notification, rows, ignore_conflicts=True, returning="email_status")
    if any(status == EmailStatus.PENDING for status in inserted):
        enqueue_on_commit(EMAIL_DISPATCH_TASK)
    return len(inserted)


def notification_email_send(*, notification_id: int) -> bool:
    """Send the e-mail copy of one message, at most once: it is claimed before the mailer is called."""
    claimed = Notification.objects.filter(pk=notification_id, email_status=EmailStatus.PENDING).update(
        email_status=EmailStatus.SENT, emailed_at=timezone.now()
    )
    if not claimed:
        return False
    note = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        send_mail(
            note.subject,
            f"{note.body}\n\n{note.url}".strip(),
            settings.DEFAULT_FROM_EMAIL,
            [note.recipient.email],
        )
    except Exception:  # SMTP errors of every kind: record, do not retry (no duplicate e-mails)
        log.exception("e-mail of notification %s failed", notification_id)
        Notification.objects.filter(pk=notification_id).update(email_status=EmailStatus.FAILED)
        return False
    return True


def notification_email_dispatch_pending(*, limit: int = 500) -> int:
    """Send pending e-mail copies, oldest first (after bulk sends, a lost task or a broker outage)."""
    ids = list(
        Notification.objects.filter(email_status=EmailStatus.PENDING)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(notification_email_send(notification_id=pk) for pk in ids)


def notification_mark_read(*, actor, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read (others' are invisible)."""
    if notification.recipient_id != getattr(actor, "pk", None):
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


def notification_mark_all_read(*, actor) -> int:
    """Mark every unread message of the actor's inbox read; returns how many."""
    if getattr(actor, "pk", None) is None:
        return 0
    now = timezone.now()
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(read_at=now, updated_at=now)
