"""Evidence about people around a use case: feedback channels and the items received through them
(M-25-21 §4(b)(vii), §8), and operators' system-specific training (M-25-21 §4(b)(iv))."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from .base import PublicIdMixin, TimestampedModel
from .registry import AIUseCase, Project


class FeedbackChannel(PublicIdMixin, TimestampedModel):
    """A way end users or the public give feedback on a use case (M-25-21 §8 lists methods)."""

    PUBLIC_ID_PREFIX = "FBC"

    class Method(models.TextChoices):
        WEB_FORM = "web_form", "Web form"
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone line"
        IN_APP = "in_app", "In-application feedback"
        SURVEY = "survey", "Post-transaction customer survey"
        USABILITY_TESTING = "usability_testing", "Usability testing"
        PUBLIC_COMMENT = "public_comment", "Public comment or request for information"
        HEARING = "hearing", "Public hearing or meeting"
        OTHER = "other", "Other"

    class Audience(models.TextChoices):
        PUBLIC = "public", "The public"
        END_USERS = "end_users", "End users of the system"
        INTERNAL = "internal", "Agency staff (e.g. reporting violating LLM outputs, M-26-04)"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="feedback_channels")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="feedback_channels")
    name = models.CharField(max_length=200)
    method = models.CharField(max_length=20, choices=Method.choices)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.PUBLIC)
    url = models.URLField(blank=True)
    contact = models.CharField(max_length=200, blank=True, help_text="E-mail address, phone number or office.")
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, db_index=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivation_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["project__key", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(url="") | ~Q(contact=""), name="feedbackchannel_reachable"),
            models.CheckConstraint(
                condition=Q(is_active=True) | ~Q(deactivation_reason=""), name="feedbackchannel_deactivation_reason"
            ),
        ]
        indexes = [models.Index(fields=["project", "use_case", "is_active"])]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.name}"


class FeedbackItem(PublicIdMixin, TimestampedModel):
    """One piece of feedback received on a channel; ``triage_due_at`` is stored when it arrives."""

    PUBLIC_ID_PREFIX = "FBI"

    class Category(models.TextChoices):
        ERROR = "error", "Wrong or harmful output"
        BIAS = "bias", "Bias or unfair treatment"
        PRIVACY = "privacy", "Privacy concern"
        VIOLATING_OUTPUT = "violating_output", "Output violating the Unbiased AI Principles (M-26-04)"
        SAFETY = "safety", "Safety concern"
        USABILITY = "usability", "Usability"
        SUGGESTION = "suggestion", "Suggestion"
        PRAISE = "praise", "Praise"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        TRIAGED = "triaged", "Triaged"

    class Outcome(models.TextChoices):
        NO_ACTION = "no_action", "No action needed"
        CORRECTED = "corrected", "Output or content corrected"
        MODEL_CHANGE = "model_change", "Model or configuration change"
        ESCALATED_INCIDENT = "escalated_incident", "Escalated as an AI incident"
        REFERRED_APPEAL = "referred_appeal", "Referred to the appeal process"
        DUPLICATE = "duplicate", "Duplicate"
        OTHER = "other", "Other"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="feedback_items")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="feedback_items")
    channel = models.ForeignKey(FeedbackChannel, on_delete=models.PROTECT, related_name="items")
    received_at = models.DateTimeField(db_index=True)
    category = models.CharField(max_length=20, choices=Category.choices, db_index=True)
    summary = models.TextField()
    reference = models.CharField(max_length=200, blank=True, help_text="The channel's own id (ticket, survey row).")
    triage_due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    triaged_at = models.DateTimeField(null=True, blank=True, db_index=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="received") | (Q(triaged_at__isnull=False) & ~Q(outcome="")),
                name="feedbackitem_triage_complete",
            ),
            models.CheckConstraint(condition=Q(triage_due_at__gt=F("received_at")), name="feedbackitem_due_after"),
        ]
        indexes = [
            models.Index(fields=["project", "use_case", "received_at"]),
            models.Index(fields=["project", "status", "triage_due_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.get_category_display()} ({self.status})"


class OperatorTraining(PublicIdMixin, TimestampedModel):
    """A completed, system-specific training of one operator of a use case (M-25-21 §4(b)(iv)).
    A record counts until ``expires_on``; retraining inserts a new record."""

    PUBLIC_ID_PREFIX = "TRN"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="operator_trainings")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="operator_trainings")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="operator_trainings"
    )
    operator_name = models.CharField(max_length=200)
    course = models.CharField(max_length=200)
    provider = models.CharField(max_length=200, blank=True)
    system_specific = models.BooleanField(default=True, db_index=True)
    assessment_passed = models.BooleanField(
        null=True, blank=True, help_text="Outcome of the operator assessment, when there was one."
    )
    completed_on = models.DateField(db_index=True)
    expires_on = models.DateField(db_index=True)
    certificate_url = models.URLField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-completed_on", "-id"]
        verbose_name = "operator training record"
        constraints = [
            models.CheckConstraint(condition=Q(expires_on__gt=F("completed_on")), name="training_expires_after"),
        ]
        indexes = [
            models.Index(fields=["project", "use_case", "expires_on"]),
            models.Index(fields=["use_case", "operator_name"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.operator_name} · {self.course}"
