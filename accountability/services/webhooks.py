"""Outgoing webhooks: configuration (governance acts, in the ledger), emission (a delivery row per
subscribed webhook, deduplicated) and delivery (HMAC-SHA256 signed POST, exponential backoff, a log).

Receivers verify ``X-Icdev-Signature: t=<unix time>,v1=<hex>`` where ``hex`` is
HMAC-SHA256(secret, ``"<unix time>." + raw body``), and may drop duplicates by ``X-Icdev-Delivery``.
Secrets are stored encrypted (``Webhook.secret`` decrypts; ``webhook_secrets_reencrypt`` rotates keys).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from accountability.actors import history_user
from accountability.config import policy
from accountability.exceptions import InvalidTransition, NotAllowed, SecretUndecryptable, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import Project, Webhook, WebhookDelivery
from accountability.permissions import Perm, is_unrestricted, require
from accountability.webhook_keys import keyring, reencrypt_secret

from ._common import apply_changes, full_clean, tracked_save
from ._dispatch import enqueue_on_commit

DeliveryStatus = WebhookDelivery.Status
DISPATCH_TASK = "webhooks.dispatch_due"
DELIVER_TASK = "webhooks.deliver"
USER_AGENT = "icdev-webhooks/1"
UNDECRYPTABLE = "signing secret cannot be decrypted with ICDEV_WEBHOOK_SECRET_KEYS; not sent"

log = logging.getLogger(__name__)

# Event kinds a webhook can subscribe to (an empty subscription means all of them).
EVENT_KINDS = [
    "incident.logged",
    "incident.status_changed",
    "incident.sla_breached",
    "incident.escalated",
    "incident.eu_report_overdue",
    "corrective_action.overdue",
    "reassessment.due",
    "reassessment.overdue",
    "reassessment.escalated",
    "reassessment.completed",
    "webhook.ping",
]


@dataclass(frozen=True)
class Event:
    """One event for the project's webhooks; ``dedupe_key`` makes a re-emit a no-op."""

    project_id: int
    project_key: str
    kind: str
    data: dict
    dedupe_key: str


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # delivered, retry, failed, skipped
    attempts: int = 0
    status_code: int | None = None
    error: str = ""
    next_attempt_at: dt.datetime | None = None


# --- configuration -------------------------------------------------------------------------------


def _check_url(url: str) -> None:
    parsed = urlparse(url or "")
    allowed = {"https", "http"} if settings.ICDEV_WEBHOOK_ALLOW_HTTP else {"https"}
    if parsed.scheme not in allowed or not parsed.netloc:
        raise ValidationFailed({"url": [f"Give an absolute {' or '.join(sorted(allowed))} URL."]})


def _check_events(events) -> list[str]:
    if not isinstance(events, list | tuple) or any(e not in EVENT_KINDS for e in events):
        raise ValidationFailed({"events": [f"Each event must be one of: {', '.join(EVENT_KINDS)}."]})
    return sorted(set(events))


@transaction.atomic
def webhook_create(*, actor, project: Project, name: str, url: str, events: Sequence[str] = ()) -> Webhook:
    """Register an endpoint for the project's events; its signing secret is generated here."""
    require(actor, project, Perm.WEBHOOK_MANAGE)
    _check_url(url)
    hook = Webhook(
        project=project,
        name=(name or "").strip(),
        url=url,
        events=_check_events(list(events)),
        secret=secrets.token_urlsafe(32),
        created_by=history_user(actor),
    )
    full_clean(hook)
    tracked_save(hook, actor=actor, reason="webhook created")
    record_governance(
        actor=actor,
        project=project,
        action_type="webhook.create",
        description=f"{hook.public_id} '{hook.name}' will receive {', '.join(hook.events) or 'all events'}",
        subject=hook,
        changes={"url": url, "events": hook.events},
    )
    return hook


@transaction.atomic
def webhook_update(*, actor, webhook: Webhook, **changes) -> Webhook:
    """Change a webhook's name, URL, subscribed events or active flag."""
    require(actor, webhook.project, Perm.WEBHOOK_MANAGE)
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if "url" in changes:
        _check_url(changes["url"])
    if "events" in changes:
        changes["events"] = _check_events(changes["events"])
    diff = apply_changes(webhook, changes, {"name", "url", "events", "is_active"})
    if not diff:
        return webhook
    full_clean(webhook)
    tracked_save(webhook, actor=actor, reason="webhook updated")
    record_governance(
        actor=actor,
        project=webhook.project,
        action_type="webhook.update",
        description=f"{webhook.public_id} updated",
        subject=webhook,
        changes=diff,
    )
    return webhook


@transaction.atomic
def webhook_rotate_secret(*, actor, webhook: Webhook) -> Webhook:
    """Replace the signing secret (the receiver must be given the new one)."""
    require(actor, webhook.project, Perm.WEBHOOK_MANAGE)
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    webhook.secret = secrets.token_urlsafe(32)
    tracked_save(webhook, actor=actor, reason="secret rotated")
    record_governance(
        actor=actor,
        project=webhook.project,
        action_type="webhook.rotate_secret",
        description=f"{webhook.public_id} signing secret rotated",
        subject=webhook,
    )
    return webhook


@dataclass(frozen=True)
class ReencryptResult:
    rotated: int  # every secret, now under the first key
    under_older_key: int  # of which were not under the first key before
    key_fingerprint: str  # the first key's fingerprint (webhook_keys.fingerprint)


@transaction.atomic
def webhook_secrets_reencrypt(*, actor) -> ReencryptResult:
    """Encrypt every webhook's signing secret again under the first ICDEV_WEBHOOK_SECRET_KEYS key (after a
    new key was put first); all or nothing: SecretUndecryptable names the webhooks no key opens. Each
    project whose webhooks were re-encrypted gets a ledger entry naming them and the key's fingerprint."""
    if not is_unrestricted(actor):
        raise NotAllowed("Only system jobs and superusers re-encrypt webhook secrets.")
    hooks = list(Webhook.objects.select_for_update().order_by("pk").only("pk", "project_id", "secret_encrypted"))
    failed, older = [], set()
    for hook in hooks:
        try:
            hook.secret_encrypted, was_older = reencrypt_secret(hook.secret_encrypted)
        except SecretUndecryptable:
            failed.append(hook.public_id)
            continue
        if was_older:
            older.add(hook.pk)
    if failed:
        raise SecretUndecryptable(
            f"No key in ICDEV_WEBHOOK_SECRET_KEYS decrypts the secret of {', '.join(failed)}; nothing was changed. "
            "Add the missing key back, or rotate those webhooks' secrets."
        )
    # The secrets themselves are unchanged and history excludes the column, so no history rows: one UPDATE
    # per batch. The re-encryption is still an act on each project's webhooks, and the ledger says so.
    Webhook.objects.bulk_update(hooks, ["secret_encrypted"], batch_size=500)
    fp = keyring().fingerprint
    by_project: dict[int, list[Webhook]] = {}
    for hook in hooks:
        by_project.setdefault(hook.project_id, []).append(hook)
    for project in Project.objects.filter(pk__in=by_project).order_by("pk"):
        mine = by_project[project.pk]
        moved = sum(h.pk in older for h in mine)
        record_governance(
            actor=actor,
            project=project,
            action_type="webhook.reencrypt_secrets",
            description=(
                f"{len(mine)} webhook signing secret(s) encrypted again under key {fp}, {moved} of them from an "
                "older key; the secrets themselves are unchanged"
            ),
            changes={"key_fingerprint": fp, "webhooks": len(mine), "under_older_key": moved},
            related=[h.public_id for h in mine],
        )
    return ReencryptResult(len(hooks), len(older), fp)


@transaction.atomic
def webhook_send_test(*, actor, webhook: Webhook) -> WebhookDelivery:
    """Queue a ``webhook.ping`` delivery to check the receiver and its signature verification."""
    require(actor, webhook.project, Perm.WEBHOOK_MANAGE)
    if not webhook.is_active:
        raise InvalidTransition(f"{webhook.public_id} is inactive.")
    key = f"ping:{timezone.now().isoformat()}:{secrets.token_hex(4)}"
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        project=webhook.project,
        event="webhook.ping",
        payload=_envelope(webhook.project.key, "webhook.ping", {"webhook": webhook.public_id}, key),
        dedupe_key=key,
        next_attempt_at=timezone.now(),
    )
    enqueue_on_commit(DELIVER_TASK, delivery.pk)
    return delivery


@transaction.atomic
def webhook_delivery_retry(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed (or waiting) delivery again now, with a fresh attempt budget; its log is kept."""
    require(actor, delivery.project, Perm.WEBHOOK_MANAGE)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == DeliveryStatus.DELIVERED:
        raise InvalidTransition("This delivery succeeded; there is nothing to retry.")
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, timezone.now()
    delivery.claimed_until = None
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_until", "updated_at"])
    enqueue_on_commit(DELIVER_TASK, delivery.pk)
    return delivery


# --- emission --------------------------------------------------------------------------------------


def _envelope(project_key: str, kind: str, data: dict, dedupe_key: str) -> dict:
    return {
        "event": kind,
        "project": project_key,
        "occurred_at": timezone.now().isoformat(),
        "idempotency_key": dedupe_key,
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
    }


def webhook_emit(events: Sequence[Event]) -> int:
    """Queue each event for every active webhook of its project that wants it; returns deliveries created."""
    if not events:
        return 0
    hooks: dict[int, list[Webhook]] = {}
    for hook in Webhook.objects.filter(project_id__in={e.project_id for e in events}, is_active=True):
        hooks.setdefault(hook.project_id, []).append(hook)
    if not hooks:
        return 0
    now = timezone.now()
    rows = [
        WebhookDelivery(
            webhook=hook,
            project_id=e.project_id,
            event=e.kind,
            payload=_envelope(e.project_key, e.kind, e.data, e.dedupe_key),
            dedupe_key=e.dedupe_key,
            next_attempt_at=now,
        )
        for e in events
        for hook in hooks.get(e.project_id, [])
        if hook.wants(e.kind)
    ]
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    if rows:
        enqueue_on_commit(DISPATCH_TASK)
    return len(rows)


# --- delivery --------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def backoff_seconds(attempts: int) -> int:
    """Wait before retry number ``attempts`` (1-based): base * 2**(attempts-1), capped (configuration)."""
    cfg = policy()["webhooks"]
    return min(cfg["backoff_base_seconds"] * 2 ** max(attempts - 1, 0), cfg["backoff_max_seconds"])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is a failed delivery: never re-send a signed payload elsewhere


def _post(url: str, body: bytes, headers: dict, timeout: int) -> tuple[int | None, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def _claim(delivery_id: int, now: dt.datetime, lease: int) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("webhook")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return None
        if (delivery.next_attempt_at and delivery.next_attempt_at > now) or (
            delivery.claimed_until and delivery.claimed_until > now
        ):
            return None
        delivery.claimed_until = now + dt.timedelta(seconds=lease)
        delivery.save(update_fields=["claimed_until", "updated_at"])
        return delivery


def _send(hook: Webhook, delivery: WebhookDelivery, body: bytes, timeout: int) -> tuple[int | None, str]:
    try:
        secret = hook.secret
    except SecretUndecryptable:
        # A failed attempt like any other (logged, retried with backoff), not a crashed task: the sweep
        # goes on with the other deliveries, and restoring the key lets this one through.
        log.error("webhook %s: %s (delivery %s)", hook.public_id, UNDECRYPTABLE, delivery.pk)
        return None, UNDECRYPTABLE
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Icdev-Event": delivery.event,
        "X-Icdev-Delivery": f"{hook.public_id}:{delivery.pk}",
        "X-Icdev-Signature": sign(secret, timestamp, body),
    }
    return _post(hook.url, body, headers, timeout)


def webhook_deliver(*, delivery_id: int) -> DeliveryOutcome:
    """Attempt one due delivery (claimed under a lease), log it, and schedule a retry with backoff."""
    cfg = policy()["webhooks"]
    now = timezone.now()
    delivery = _claim(delivery_id, now, cfg["timeout_seconds"] + 30)
    if delivery is None:
        return DeliveryOutcome("skipped")
    hook = delivery.webhook
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    code, error = None, "webhook deactivated"
    started = time.monotonic()
    if hook.is_active:
        code, error = _send(hook, delivery, body, cfg["timeout_seconds"])
    elapsed_ms = round((time.monotonic() - started) * 1000)
    ok = code is not None and 200 <= code < 300
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.attempts += 1
        delivery.attempt_log = [
            *delivery.attempt_log,
            {"at": now.isoformat(), "status_code": code, "error": "" if ok else error, "ms": elapsed_ms},
        ]
        delivery.last_status_code, delivery.last_error, delivery.claimed_until = code, "" if ok else error, None
        if ok:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
        elif not hook.is_active or delivery.attempts >= cfg["max_attempts"]:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            delivery.next_attempt_at = now + dt.timedelta(seconds=backoff_seconds(delivery.attempts))
        delivery.save()
    status = {DeliveryStatus.DELIVERED: "delivered", DeliveryStatus.FAILED: "failed"}.get(delivery.status, "retry")
    return DeliveryOutcome(status, delivery.attempts, code, delivery.last_error, delivery.next_attempt_at)
