"""Scheduled reassessments (seed 003 goal 6): a cadence per use case and assessment type, its due state
and the completion history. Rows change only through ``accountability.services.reassessments``."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .base import PublicIdMixin, TimestampedModel
from .registry import AIUseCase, Project


class ReassessmentScheduleQuerySet(models.QuerySet):
    def with_live_status(self, today: dt.date, due_soon_days: int):
        """Annotate ``live_status`` from ``next_due`` and today (the stored status lags until the sweep)."""
        return self.annotate(
            live_status=Case(
                When(next_due__lt=today, then=Value(ReassessmentSchedule.Status.OVERDUE)),
                When(
                    next_due__lte=today + dt.timedelta(days=due_soon_days), then=Value(ReassessmentSchedule.Status.DUE)
                ),
                default=Value(ReassessmentSchedule.Status.ON_TRACK),
                output_field=models.CharField(),
            )
        )


class ReassessmentSchedule(PublicIdMixin, TimestampedModel):
    """A periodic reassessment: ``next_due`` advances by whole ``frequency_days`` steps from ``anchor_date``."""

    PUBLIC_ID_PREFIX = "RAS"

    class Status(models.TextChoices):
        ON_TRACK = "on_track", "On track"
        DUE = "due", "Due"
        OVERDUE = "overdue", "Overdue"

    class Trigger(models.TextChoices):
        CADENCE = "cadence", "Cadence"
        SIGNIFICANT_MODIFICATION = "significant_modification", "Significant modification"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="reassessment_schedules")
    use_case = models.ForeignKey(
        AIUseCase,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reassessment_schedules",
        help_text="Empty for a project-wide reassessment.",
    )
    assessment_type = models.CharField(max_length=40, db_index=True)
    frequency_days = models.PositiveIntegerField()
    anchor_date = models.DateField(help_text="The cadence counts whole steps from this date.")
    next_due = models.DateField(db_index=True)
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.ON_TRACK,
        help_text="The state the sweep (or a service) last acted on; reads use the live status from next_due.",
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    due_reason = models.CharField(max_length=30, choices=Trigger.choices, default=Trigger.CADENCE)
    due_reason_detail = models.TextField(blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_completed_at = models.DateTimeField(null=True, blank=True)
    last_completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True, db_index=True)
    deactivated_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    objects = ReassessmentScheduleQuerySet.as_manager()

    class Meta:
        ordering = ["next_due", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(frequency_days__gte=1), name="reassessment_frequency_positive"),
            models.CheckConstraint(
                condition=Q(is_active=True) | ~Q(deactivated_reason=""), name="reassessment_off_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "next_due"]),
            # The sweep: active schedules not yet flagged overdue, by due date; overdue ones to escalate.
            models.Index(
                fields=["next_due"],
                condition=Q(is_active=True, status__in=["on_track", "due"]),
                name="reassessment_sweep_due",
            ),
            models.Index(
                fields=["project", "next_due"],
                condition=Q(is_active=True, status__in=["on_track", "due"]),
                name="reassessment_sweep_project_due",
            ),
            models.Index(
                fields=["status_changed_at"],
                condition=Q(is_active=True, status="overdue", escalated_at__isnull=True),
                name="reassessment_to_escalate",
            ),
        ]

    def __str__(self) -> str:
        target = self.use_case.public_id if self.use_case_id else "project-wide"
        return f"{self.public_id} · {self.assessment_type} · {target}"


class ReassessmentCompletion(models.Model):
    """One completed reassessment: who, when, the evidence, and which due date it satisfied. Append-only."""

    schedule = models.ForeignKey(ReassessmentSchedule, on_delete=models.PROTECT, related_name="completions")
    completed_at = models.DateTimeField(default=timezone.now)
    completed_on = models.DateField(help_text="The day the reassessment was done (may be before it was recorded).")
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_by_name = models.CharField(max_length=150)
    evidence_url = models.URLField(max_length=500, blank=True)
    notes = models.TextField(blank=True)
    due_on = models.DateField(help_text="The next_due this completion satisfied.")
    was_overdue = models.BooleanField(default=False)
    next_due = models.DateField(help_text="The next due date it set.")
    ledger_entry_id = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-completed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.schedule_id} · {self.completed_on}"
