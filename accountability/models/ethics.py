"""Ethics reviews by interdisciplinary boards (seed 003 goal 4, D319; seed 000 ethics review boards).

A review keeps the rubric and quorum rule it started with (snapshots from the policy). Each round of
scoring belongs to one ``EthicsReviewVersion``; a revision inserts version n+1, and a closed version and
its scores are never updated again (``save`` refuses). Rows change only through
``accountability.services.ethics``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .base import PublicIdMixin, TimestampedModel


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    APPROVE_WITH_CONDITIONS = "approve_with_conditions", "Approve with conditions"
    REJECT = "reject", "Reject"


class EthicsReview(PublicIdMixin, TimestampedModel):
    """An ethics review of one use case by a board, scored against a rubric (D319)."""

    PUBLIC_ID_PREFIX = "ETH"
    Decision = Decision

    class ReviewType(models.TextChoices):
        INITIAL = "initial", "Initial"
        PERIODIC = "periodic", "Periodic"
        INCIDENT_TRIGGERED = "incident_triggered", "Incident-triggered"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_PROGRESS = "in_progress", "In progress"
        REQUIRES_CHANGES = "requires_changes", "Requires changes"
        REVISED = "revised", "Revised"
        COMPLETED = "completed", "Completed"

    project = models.ForeignKey("accountability.Project", on_delete=models.PROTECT, related_name="ethics_reviews")
    use_case = models.ForeignKey("accountability.AIUseCase", on_delete=models.PROTECT, related_name="ethics_reviews")
    review_type = models.CharField(max_length=20, choices=ReviewType.choices, default=ReviewType.INITIAL)
    incident = models.ForeignKey(
        "accountability.Incident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ethics_reviews",
        help_text="The incident that triggered the review (incident-triggered reviews only).",
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    version = models.PositiveIntegerField(default=1, help_text="The current version under review.")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="ethics_reviews_submitted",
        help_text="Who submits the use case for review and revises it; never a scorer of this review.",
    )
    rubric_key = models.CharField(max_length=60)
    rubric_version = models.PositiveIntegerField()
    rubric = models.JSONField(help_text="Snapshot of the rubric from the policy when the review was created.")
    quorum_rule = models.JSONField(help_text="Snapshot of the quorum rule from the policy.")
    score_timeout_days = models.PositiveIntegerField()
    decision = models.CharField(max_length=24, choices=Decision.choices, blank=True)
    findings = models.TextField(blank=True)
    recommendations = models.TextField(blank=True)
    conditions = models.TextField(blank=True, help_text="Conditions of an approval with conditions.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="completed") | (~Q(decision="") & Q(completed_at__isnull=False)),
                name="ethics_completed_has_decision",
            ),
            models.CheckConstraint(
                condition=(Q(review_type="incident_triggered") & Q(incident__isnull=False))
                | (~Q(review_type="incident_triggered") & Q(incident__isnull=True)),
                name="ethics_incident_iff_incident_triggered",
            ),
            models.CheckConstraint(
                condition=~Q(decision="approve_with_conditions") | ~Q(conditions=""),
                name="ethics_conditions_stated",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="ethics_version_positive"),
        ]
        indexes = [models.Index(fields=["use_case", "status"])]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.title}"

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.COMPLETED and self.decision in (
            Decision.APPROVE,
            Decision.APPROVE_WITH_CONDITIONS,
        )


class BoardMember(TimestampedModel):
    """A member of a review's board: their discipline and the stakeholder party they represent (seed 000)."""

    class Discipline(models.TextChoices):
        LEGAL = "legal", "Legal"
        PRIVACY = "privacy", "Privacy"
        CIVIL_RIGHTS = "civil_rights", "Civil rights"
        TECHNICAL = "technical", "Technical"
        DOMAIN = "domain", "Domain expert"
        AFFECTED_COMMUNITY = "affected_community", "Affected-community representative"

    class Party(models.TextChoices):
        AI_TOOL_PROVIDER = "ai_tool_provider", "AI tool provider"
        SYSTEM_INTEGRATOR = "system_integrator", "System integrator"
        END_USER_DEVELOPER = "end_user_developer", "End-user developer"
        DEPLOYER = "deployer", "Deploying organisation"
        AFFECTED_COMMUNITY = "affected_community", "Affected community"
        INDEPENDENT = "independent", "Independent"

    review = models.ForeignKey(EthicsReview, on_delete=models.PROTECT, related_name="board")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ethics_board_seats")
    discipline = models.CharField(max_length=24, choices=Discipline.choices)
    party = models.CharField(max_length=24, choices=Party.choices)
    stakeholder = models.ForeignKey(
        "accountability.Stakeholder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The use case's stakeholder this member represents, when there is one.",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["review_id", "id"]
        constraints = [models.UniqueConstraint(fields=["review", "user"], name="board_member_once")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_discipline_display()}, {self.get_party_display()})"


class _Immutable(models.Model):
    """Rows that are written once; ``frozen`` says when a row may no longer change."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding and self.is_frozen_in_db():
            raise IntegrityError(f"{self._meta.verbose_name} {self.pk} is closed and cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise IntegrityError(f"{self._meta.verbose_name} rows are never deleted.")

    def is_frozen_in_db(self) -> bool:
        return False


class EthicsReviewVersion(_Immutable, TimestampedModel):
    """One version of the reviewed submission and the outcome of its scoring round. Closed once decided."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", "Approve"
        APPROVE_WITH_CONDITIONS = "approve_with_conditions", "Approve with conditions"
        REJECT = "reject", "Reject"
        REQUEST_CHANGES = "request_changes", "Request changes"

    review = models.ForeignKey(EthicsReview, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    summary = models.TextField(help_text="What the board reviews in this version (or what changed).")
    material_url = models.URLField(blank=True, help_text="Link to the documents under review.")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(null=True, blank=True)
    tallied_at = models.DateTimeField(null=True, blank=True)
    scored_count = models.PositiveIntegerField(default=0)
    quorum_met = models.BooleanField(null=True, blank=True)
    quorum_reasons = models.JSONField(default=list, blank=True)
    aggregate_score = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    vetoes = models.JSONField(default=list, blank=True)
    recommendation = models.CharField(max_length=24, choices=Decision.choices, blank=True)
    outcome = models.CharField(max_length=24, choices=Outcome.choices, blank=True)
    findings = models.TextField(blank=True)
    recommendations = models.TextField(blank=True)
    conditions = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["review_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["review", "version"], name="ethics_version_unique"),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | ~Q(outcome=""), name="ethics_version_closed_has_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.review.public_id} v{self.version}"

    def is_frozen_in_db(self) -> bool:
        return EthicsReviewVersion.objects.filter(pk=self.pk, closed_at__isnull=False).exists()


class RubricScore(_Immutable, TimestampedModel):
    """One board member's result for one version: scores against the rubric, a recusal for a declared
    conflict of interest, or a missed deadline. Written once, never changed."""

    class Disposition(models.TextChoices):
        SCORED = "scored", "Scored"
        RECUSED = "recused", "Recused (conflict of interest)"
        MISSED = "missed", "Missed the deadline"

    class Conflict(models.TextChoices):
        NONE = "none", "No conflict of interest"
        DECLARED = "declared", "Conflict of interest declared"

    review = models.ForeignKey(EthicsReview, on_delete=models.PROTECT, related_name="scores")
    version = models.ForeignKey(EthicsReviewVersion, on_delete=models.PROTECT, related_name="scores")
    member = models.ForeignKey(BoardMember, on_delete=models.PROTECT, related_name="scores")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rubric_scores")
    disposition = models.CharField(max_length=10, choices=Disposition.choices)
    scores = models.JSONField(default=dict, blank=True, help_text="Criterion id -> score, valid against the rubric.")
    weighted_score = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    comments = models.TextField(blank=True)
    conflict_of_interest = models.CharField(max_length=10, choices=Conflict.choices, blank=True)
    conflict_details = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["version_id", "member_id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "member"], name="rubric_score_once_per_version"),
            models.CheckConstraint(
                condition=~Q(disposition="recused") | (Q(conflict_of_interest="declared") & ~Q(conflict_details="")),
                name="rubric_recusal_declares_conflict",
            ),
            models.CheckConstraint(
                condition=~Q(disposition="scored") | Q(conflict_of_interest="none"),
                name="rubric_score_declares_no_conflict",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.reviewer} · {self.disposition}"

    def is_frozen_in_db(self) -> bool:
        return True
