"""Provenance and monitoring evidence: hash-chained provenance records anchored in the ledger, the
project's content-tracing policy (versioned, approved), and monitoring plans with their observations."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .base import PublicIdMixin, TimestampedModel
from .registry import AIUseCase, Project

# W3C Trace Context: 16 bytes as 32 lower-case hex digits; all zeros is an invalid trace id.
TRACE_ID_RE = r"^(?!0{32}$)[0-9a-f]{32}$"
trace_id_validator = RegexValidator(TRACE_ID_RE, "A W3C trace id: 32 lower-case hex digits, not all zero.")
SHA256_RE = r"^[0-9a-f]{64}$"
sha256_validator = RegexValidator(SHA256_RE, "A SHA-256 digest: 64 lower-case hex digits.")


class ProvenanceRecord(PublicIdMixin, TimestampedModel):
    """Which data and which model version produced an output (NIST AI 600-1 MS-1.1-001, MS-2.8-003).

    Records of a use case form a hash chain: ``record_hash`` covers the content and ``previous_hash``
    (the previous record's hash). Each record is anchored by a ledger entry written in the same
    transaction. ``chain_status`` is the outcome of the last verification of this record.
    """

    PUBLIC_ID_PREFIX = "PRV"

    class ChainStatus(models.TextChoices):
        VERIFIED = "verified", "Verified"
        BROKEN = "broken", "Broken"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="provenance_records")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="provenance_records")
    sequence = models.PositiveBigIntegerField(help_text="Position in the use case's chain, from 1.")
    trace_id = models.CharField(max_length=32, validators=[trace_id_validator], db_index=True)
    data_sources = models.JSONField(help_text="Identifiers of the data the output was produced from.")
    model_name = models.CharField(max_length=200)
    model_version = models.CharField(max_length=100)
    output_reference = models.CharField(max_length=500, help_text="Where the output is (URI, ticket, document id).")
    output_hash = models.CharField(max_length=64, blank=True, validators=[sha256_validator])
    generated_at = models.DateTimeField(db_index=True)
    previous_hash = models.CharField(max_length=64, validators=[sha256_validator])
    record_hash = models.CharField(max_length=64, unique=True, validators=[sha256_validator])
    ledger_entry_id = models.CharField(max_length=40, db_index=True, help_text="The ledger entry anchoring it.")
    chain_status = models.CharField(
        max_length=10, choices=ChainStatus.choices, default=ChainStatus.VERIFIED, db_index=True
    )
    chain_checked_at = models.DateTimeField(help_text="When chain_status was last established.")
    chain_problem = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["use_case_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["use_case", "sequence"], name="provenance_sequence_unique"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="provenance_sequence_positive"),
        ]
        indexes = [
            models.Index(fields=["project", "use_case", "chain_status"]),
            models.Index(fields=["project", "generated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · trace {self.trace_id} · #{self.sequence}"


class ContentTracingPolicy(PublicIdMixin, TimestampedModel):
    """The project's content-tracing and provenance policy (NIST AI 600-1 GV-1.2-001, GV-1.5-001,
    GV-1.5-003). Versions are inserted; approving a draft supersedes the approved version. Evidence is an
    approved policy whose review date has not passed, not an environment variable."""

    PUBLIC_ID_PREFIX = "CTP"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        SUPERSEDED = "superseded", "Superseded"
        DISCARDED = "discarded", "Discarded"

    CONTENT_FIELDS = (
        "title",
        "owner",
        "owner_name",
        "scope",
        "methods",
        "retention_days",
        "review_due_on",
        "tracing_enabled",
    )

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="content_tracing_policies")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_name = models.CharField(max_length=200, help_text="Who is responsible for periodic provenance review.")
    scope = models.TextField(help_text="Which content and records are traced.")
    methods = models.TextField(blank=True, help_text="e.g. trace ids, signed manifests, watermarking.")
    retention_days = models.PositiveIntegerField(help_text="How long tracing and TEVV records are kept.")
    review_due_on = models.DateField(db_index=True)
    tracing_enabled = models.BooleanField(default=True, db_index=True)
    change_summary = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When superseded or discarded.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["project__key", "version"]
        verbose_name = "content-tracing policy"
        verbose_name_plural = "content-tracing policies"
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="tracingpolicy_version_unique"),
            models.UniqueConstraint(
                fields=["project"], condition=Q(status="approved"), name="tracingpolicy_one_approved"
            ),
            models.UniqueConstraint(fields=["project"], condition=Q(status="draft"), name="tracingpolicy_one_draft"),
            models.CheckConstraint(condition=Q(retention_days__gte=1), name="tracingpolicy_retention_positive"),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(approved_at__isnull=False), name="tracingpolicy_approved_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.title} v{self.version} ({self.status})"


class MonitoringPlan(PublicIdMixin, TimestampedModel):
    """Ongoing monitoring of a use case (M-25-21 §4(b)(iii), GAO-21-519SP 4.1): which metrics, with which
    thresholds, how often. ``next_observation_due`` is stored so overdue monitoring is an indexed query."""

    PUBLIC_ID_PREFIX = "MON"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="monitoring_plans")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="monitoring_plans")
    name = models.CharField(max_length=200)
    metrics = models.JSONField(help_text="[{name, unit, threshold, comparison: at_most|at_least}]")
    frequency_days = models.PositiveIntegerField()
    monitors_performance = models.BooleanField(default=True)
    monitors_security = models.BooleanField(default=False)
    monitors_rights_impacts = models.BooleanField("monitors rights impacts", default=False)
    human_review = models.TextField(blank=True, help_text="Periodic human review of outputs, where feasible.")
    starts_on = models.DateField()
    last_observed_on = models.DateField(null=True, blank=True)
    next_observation_due = models.DateField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retirement_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["project__key", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["use_case"], condition=Q(status="active"), name="monitoring_one_active_plan"
            ),
            models.CheckConstraint(condition=Q(frequency_days__gte=1), name="monitoring_frequency_positive"),
            models.CheckConstraint(
                condition=Q(status="active") | ~Q(retirement_reason=""), name="monitoring_retirement_reason"
            ),
        ]
        indexes = [models.Index(fields=["project", "status", "next_observation_due"])]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.name}"


class MonitoringObservation(PublicIdMixin, TimestampedModel):
    """One monitoring cycle: the metric values observed, whether all were within threshold (computed
    against the plan), and the corrective action taken when not."""

    PUBLIC_ID_PREFIX = "OBS"

    plan = models.ForeignKey(MonitoringPlan, on_delete=models.PROTECT, related_name="observations")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="monitoring_observations")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="monitoring_observations")
    observed_on = models.DateField(db_index=True)
    metric_values = models.JSONField(help_text="{metric name: value}")
    results = models.JSONField(help_text="Per metric: value, threshold, comparison, within (computed).")
    within_threshold = models.BooleanField(db_index=True)
    breach_count = models.PositiveIntegerField(default=0)
    corrective_action = models.TextField(blank=True)
    human_reviewed = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-observed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(within_threshold=True) | ~Q(corrective_action=""), name="observation_breach_has_action"
            ),
            models.CheckConstraint(
                condition=Q(within_threshold=False) | Q(breach_count=0), name="observation_within_has_no_breach"
            ),
        ]
        indexes = [models.Index(fields=["project", "use_case", "observed_on"])]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.observed_on} ({'within' if self.within_threshold else 'breach'})"
