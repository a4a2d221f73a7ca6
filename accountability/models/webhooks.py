"""Outgoing webhooks per project and their delivery log. Payloads are signed with HMAC-SHA256;
failed deliveries are retried with exponential backoff from ``next_attempt_at`` (the log is the queue).
Signing secrets are stored encrypted (``accountability/webhook_keys.py``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accountability.webhook_keys import decrypt_secret, encrypt_secret

from .base import PublicIdMixin, TimestampedModel
from .registry import Project


class Webhook(PublicIdMixin, TimestampedModel):
    """An endpoint of a project that receives governance events as signed JSON POSTs."""

    PUBLIC_ID_PREFIX = "WH"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="webhooks")
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    # A Fernet token: 140 characters for a generated secret, 268 for the longest secret the column held
    # before it was encrypted (128 characters).
    secret_encrypted = models.CharField(
        max_length=300,
        help_text="The HMAC-SHA256 signing key, encrypted (ICDEV_WEBHOOK_SECRET_KEYS); staff see it decrypted.",
    )
    events = models.JSONField(
        default=list, blank=True, help_text='Event kinds to send, e.g. ["incident.sla_breached"]; empty means all.'
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["secret_encrypted"])

    class Meta:
        ordering = ["project__key", "id"]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.name}"

    @property
    def secret(self) -> str:
        """The plain signing key, decrypted at each read (SecretUndecryptable when no configured key opens it)."""
        return decrypt_secret(self.secret_encrypted)

    @secret.setter
    def secret(self, plain: str) -> None:
        # Encrypted at once, so the plain text never reaches a save (``Webhook(secret=...)`` works too).
        self.secret_encrypted = encrypt_secret(plain)

    def wants(self, kind: str) -> bool:
        return not self.events or kind in self.events


class WebhookDelivery(TimestampedModel):
    """One event sent to one webhook, with every attempt logged. ``dedupe_key`` makes re-emits no-ops."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    event = models.CharField(max_length=80, db_index=True)
    payload = models.JSONField()
    dedupe_key = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="Lease of the worker sending it now.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    attempt_log = models.JSONField(default=list, blank=True, help_text="One entry per attempt: at, status, error, ms.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["webhook", "dedupe_key"], name="webhook_delivery_dedupe")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.status})"
