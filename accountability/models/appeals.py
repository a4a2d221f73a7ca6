"""Appeals of AI-affected decisions (seed 003 goal 3, D318; M-25-21 §4(b)(vi)).

Business status lives here and changes only through ``accountability.services.appeals``; the viewflow
process (``AppealProcess``) records who did which step and when.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .base import PublicIdMixin, TimestampedModel

TRACE_ID_RE = r"^[0-9a-f]{32}$"


def validate_trace_id(value: str) -> None:
    """A W3C Trace Context trace-id: 32 lower-case hex digits, not all zero."""
    RegexValidator(TRACE_ID_RE, "A trace id is 32 lower-case hexadecimal digits (W3C Trace Context).")(value)
    if set(value) == {"0"}:
        raise ValidationError("An all-zero trace id is invalid (W3C Trace Context).")


class Appeal(PublicIdMixin, TimestampedModel):
    """An appeal against one AI decision, identified by the decision's trace id (D318)."""

    PUBLIC_ID_PREFIX = "APL"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        UNDER_REVIEW = "under_review", "Under review"
        ESCALATED = "escalated", "Escalated"
        RESOLVED = "resolved", "Resolved"

    class Outcome(models.TextChoices):
        UPHELD = "upheld", "Upheld: the decision is reversed"
        PARTIALLY_UPHELD = "partially_upheld", "Partially upheld: the decision is changed"
        DENIED = "denied", "Denied: the decision stands"
        WITHDRAWN = "withdrawn", "Withdrawn by the appellant"

    project = models.ForeignKey("accountability.Project", on_delete=models.PROTECT, related_name="appeals")
    use_case = models.ForeignKey(
        "accountability.AIUseCase",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
        help_text="The use case that took the contested decision, when known.",
    )
    decision_trace_id = models.CharField(
        max_length=32, validators=[validate_trace_id], db_index=True, help_text="W3C trace id of the AI decision."
    )
    decision_entry_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="Ledger entry id of the contested decision, when the ledger holds one for this trace id.",
    )
    decision_takers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="People who took or approved the contested decision; none of them may review the appeal.",
    )

    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="appeals"
    )
    appellant_name = models.CharField(max_length=200, blank=True, help_text="For an appellant without an account.")
    appellant_email = models.EmailField(blank=True)
    appellant_phone = models.CharField(max_length=40, blank=True)
    appellant_postal_address = models.TextField(blank=True)
    reason = models.TextField()

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="appeals_to_review"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals_escalated_to",
        help_text="The CAIO or the official delegated appeal escalation for the use case's scope.",
    )
    escalated_to_label = models.CharField(max_length=300, blank=True, help_text="Who the escalation went to, and why.")
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    resolution = models.TextField(blank=True)
    resolved_at = models.DateTimeField("resolution date", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    assignment_due_at = models.DateTimeField(help_text="A reviewer is due by then (business days, from the policy).")
    decision_due_at = models.DateTimeField(help_text="A decision is due by then (from the policy).")
    assignment_breached_at = models.DateTimeField(null=True, blank=True, help_text="When the assignment SLA broke.")
    sla_notified_at = models.DateTimeField(null=True, blank=True, help_text="When the assignment breach was notified.")
    decision_breached_at = models.DateTimeField(null=True, blank=True, help_text="When the decision SLA broke.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[decision_takers])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(appellant__isnull=False)
                | (
                    ~Q(appellant_name="")
                    & (~Q(appellant_email="") | ~Q(appellant_phone="") | ~Q(appellant_postal_address=""))
                ),
                name="appeal_appellant_identified",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved") | (~Q(outcome="") & Q(resolved_at__isnull=False)),
                name="appeal_resolved_has_outcome",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "resolved"]) | Q(reviewer__isnull=False),
                name="appeal_reviewing_has_reviewer",
            ),
            models.CheckConstraint(
                condition=~Q(decision_trace_id="00000000000000000000000000000000"),
                name="appeal_trace_id_not_zero",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"]),
            models.Index(fields=["status", "assignment_due_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.get_status_display()}"

    @property
    def appellant_label(self) -> str:
        if self.appellant_id:
            return self.appellant.get_full_name() or self.appellant.get_username()
        return self.appellant_name

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED


class AppealNote(TimestampedModel):
    """Information added to an appeal after submission (by the appellant or on their behalf). Append-only."""

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    author_label = models.CharField(max_length=200)
    body = models.TextField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["appeal_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.appeal.public_id} note by {self.author_label}"
