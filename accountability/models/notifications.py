"""In-app notifications: one inbox per user."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .base import TimestampedModel


class Notification(TimestampedModel):
    """A message in a user's inbox. ``dedupe_key`` makes repeated sends (sweeps run twice) no-ops; the
    e-mail copy is sent at most once (``email_status`` pending -> sent or failed)."""

    class EmailStatus(models.TextChoices):
        NONE = "", "No e-mail"
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="icdev_notifications"
    )
    project = models.ForeignKey(
        "accountability.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=80, db_index=True, help_text="Event key, e.g. oversight_plan.approved.")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True)
    email_status = models.CharField(max_length=8, choices=EmailStatus.choices, default=EmailStatus.NONE)
    emailed_at = models.DateTimeField(null=True, blank=True, help_text="When the e-mail copy went to the mailer.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~Q(dedupe_key=""), name="notification_dedupe"
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["created_at"], condition=Q(email_status="pending"), name="notification_email_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.subject}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
