"""Transparency evidence about models: model cards (versioned), the M-26-04 vendor artefacts of procured
LLMs, fairness assessments with their subgroup metrics, and confabulation checks.

Every row belongs to a project and a use case, and the columns the assessors filter on (status, dates,
results) are plain indexed columns. Rows change only through ``accountability.services.evidence_*``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from .base import PublicIdMixin, TimestampedModel
from .registry import AIUseCase, Project


class ModelCard(PublicIdMixin, TimestampedModel):
    """One version of the card of one model of a use case. A change inserts version n+1 as a draft;
    publishing it supersedes the previously published version. Published content is never edited."""

    PUBLIC_ID_PREFIX = "MC"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        SUPERSEDED = "superseded", "Superseded"
        DISCARDED = "discarded", "Discarded"

    # Sections a card needs before it can be published (Mitchell et al., "Model Cards for Model
    # Reporting"; NIST AI 600-1 GV-1.6-003, MG-3.1-005).
    REQUIRED_SECTIONS = (
        "intended_use",
        "limitations",
        "training_data",
        "evaluation",
        "ethical_considerations",
        "contact",
    )
    CONTENT_FIELDS = (
        "model_version",
        "model_description",
        *REQUIRED_SECTIONS,
        "out_of_scope_uses",
        "card_url",
    )

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="model_cards")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="model_cards")
    model_name = models.CharField(max_length=200)
    model_version = models.CharField(max_length=100)
    version = models.PositiveIntegerField("card version")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    model_description = models.TextField(blank=True)
    intended_use = models.TextField(blank=True)
    out_of_scope_uses = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    training_data = models.TextField(blank=True)
    evaluation = models.TextField(blank=True)
    ethical_considerations = models.TextField(blank=True)
    contact = models.TextField(blank=True)
    card_url = models.URLField("public card URL", blank=True)
    change_summary = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When the version was superseded or discarded.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["use_case_id", "model_name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["use_case", "model_name", "version"], name="modelcard_version_unique"),
            models.UniqueConstraint(
                fields=["use_case", "model_name"], condition=Q(status="published"), name="modelcard_one_published"
            ),
            models.UniqueConstraint(
                fields=["use_case", "model_name"], condition=Q(status="draft"), name="modelcard_one_draft"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="modelcard_version_positive"),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False), name="modelcard_published_has_date"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"]),
            models.Index(fields=["use_case", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.model_name} {self.model_version} (card v{self.version}, {self.status})"


class VendorArtefactsQuerySet(models.QuerySet):
    def with_artefact_count(self):
        """Annotate ``artefact_count``: how many of the four M-26-04 artefacts are on file (0–4)."""
        supplied = [
            models.Case(
                models.When(~Q(**{name: ""}), then=models.Value(1)),
                default=models.Value(0),
                output_field=models.IntegerField(),
            )
            for name in VendorArtefacts.ARTEFACT_FIELDS
        ]
        return self.annotate(artefact_count=sum(supplied[1:], supplied[0]))


class VendorArtefacts(PublicIdMixin, TimestampedModel):
    """What the vendor of a procured LLM supplied (OMB M-26-04 solicitation minimums), and whether the
    agency reviewed the vendor's model or system card (NIST AI 600-1 MG-3.1-005)."""

    PUBLIC_ID_PREFIX = "VA"
    # The four M-26-04 minimums, in the memo's order; a blank URL means "not supplied".
    ARTEFACT_FIELDS = (
        "acceptable_use_policy_url",
        "model_card_url",
        "end_user_resources_url",
        "feedback_mechanism_url",
    )

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="vendor_artefacts")
    use_case = models.OneToOneField(AIUseCase, on_delete=models.PROTECT, related_name="vendor_artefacts")
    vendor_name = models.CharField(max_length=200)
    contract_reference = models.CharField(max_length=200, blank=True)
    acceptable_use_policy_url = models.URLField("acceptable use policy", blank=True)
    model_card_url = models.URLField("model, system or data card", blank=True)
    end_user_resources_url = models.URLField("end-user resources", blank=True)
    feedback_mechanism_url = models.URLField("feedback mechanism for violating outputs", blank=True)
    is_embedded_llm = models.BooleanField(
        "LLM embedded in a product",
        default=False,
        help_text="M-26-04 asks embedded LLMs for development and operation information as well.",
    )
    development_info_url = models.URLField("development and operation information", blank=True)
    card_reviewed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    card_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    card_review_notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    objects = VendorArtefactsQuerySet.as_manager()

    class Meta:
        ordering = ["project__key", "id"]
        verbose_name = "LLM vendor artefacts"
        verbose_name_plural = "LLM vendor artefacts"
        constraints = [
            models.CheckConstraint(
                condition=Q(card_reviewed_at__isnull=True) | ~Q(model_card_url=""),
                name="vendorartefacts_review_needs_card",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.vendor_name}"

    @property
    def artefacts_supplied(self) -> int:
        return sum(1 for name in self.ARTEFACT_FIELDS if getattr(self, name))


class EvidenceStatus(models.TextChoices):
    """Recorded evidence counts until it is retracted (recorded in error); retracted rows stay readable."""

    CURRENT = "current", "Current"
    RETRACTED = "retracted", "Retracted"


class FairnessAssessment(PublicIdMixin, TimestampedModel):
    """A fairness assessment of one model version across groups and subgroups (NIST AI 600-1 MS-2.11-002)."""

    PUBLIC_ID_PREFIX = "FA"
    Status = EvidenceStatus

    class Result(models.TextChoices):
        PASS = "pass", "Pass: every metric within its threshold"
        FAIL = "fail", "Fail"
        MITIGATED = "mitigated", "Breaches mitigated (documented)"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="fairness_assessments")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="fairness_assessments")
    model_name = models.CharField(max_length=200)
    model_version = models.CharField(max_length=100)
    performed_on = models.DateField(db_index=True)
    performed_by_name = models.CharField("performed by", max_length=200, blank=True)
    method = models.CharField(max_length=200, help_text="e.g. disaggregated evaluation on the 2026 hold-out set")
    dataset = models.TextField(blank=True)
    overall_result = models.CharField(max_length=10, choices=Result.choices, db_index=True)
    breach_count = models.PositiveIntegerField(default=0, help_text="Metrics outside their threshold.")
    mitigation = models.TextField(blank=True)
    next_due_on = models.DateField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CURRENT, db_index=True)
    retracted_at = models.DateTimeField(null=True, blank=True)
    retracted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retraction_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-performed_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(next_due_on__gt=F("performed_on")), name="fairness_due_after_run"),
            models.CheckConstraint(
                condition=~Q(overall_result="mitigated") | ~Q(mitigation=""), name="fairness_mitigation_text"
            ),
            models.CheckConstraint(
                condition=~Q(overall_result="pass") | Q(breach_count=0), name="fairness_pass_has_no_breach"
            ),
            models.CheckConstraint(
                condition=Q(status="current") | ~Q(retraction_reason=""), name="fairness_retraction_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "use_case", "performed_on"]),
            models.Index(fields=["use_case", "model_name", "status", "next_due_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.model_name} {self.model_version} ({self.performed_on}, {self.overall_result})"


class FairnessMetric(TimestampedModel):
    """One subgroup metric of a fairness assessment; ``within_threshold`` is computed when it is recorded."""

    class Metric(models.TextChoices):
        DEMOGRAPHIC_PARITY_DIFFERENCE = "demographic_parity_difference", "Demographic parity difference"
        DEMOGRAPHIC_PARITY_RATIO = "demographic_parity_ratio", "Demographic parity ratio (impact ratio)"
        EQUALIZED_ODDS_DIFFERENCE = "equalized_odds_difference", "Equalized odds difference"
        EQUAL_OPPORTUNITY_DIFFERENCE = "equal_opportunity_difference", "Equal opportunity difference"
        FALSE_POSITIVE_RATE_DIFFERENCE = "false_positive_rate_difference", "False positive rate difference"
        ACCURACY_DIFFERENCE = "accuracy_difference", "Accuracy difference"
        DENIGRATION_PREVALENCE = "denigration_prevalence", "Denigration prevalence (generative output)"

    class Comparison(models.TextChoices):
        AT_MOST = "at_most", "|value| ≤ threshold"
        AT_LEAST = "at_least", "value ≥ threshold"

    # Differences and prevalences are bounded above, ratios below.
    DEFAULT_COMPARISON = {
        Metric.DEMOGRAPHIC_PARITY_DIFFERENCE: Comparison.AT_MOST,
        Metric.DEMOGRAPHIC_PARITY_RATIO: Comparison.AT_LEAST,
        Metric.EQUALIZED_ODDS_DIFFERENCE: Comparison.AT_MOST,
        Metric.EQUAL_OPPORTUNITY_DIFFERENCE: Comparison.AT_MOST,
        Metric.FALSE_POSITIVE_RATE_DIFFERENCE: Comparison.AT_MOST,
        Metric.ACCURACY_DIFFERENCE: Comparison.AT_MOST,
        Metric.DENIGRATION_PREVALENCE: Comparison.AT_MOST,
    }

    assessment = models.ForeignKey(FairnessAssessment, on_delete=models.PROTECT, related_name="metrics")
    group = models.CharField(max_length=120, help_text="The (sub)group measured, e.g. 'age 65+' or 'sex=female'.")
    reference_group = models.CharField(max_length=120, blank=True)
    metric = models.CharField(max_length=40, choices=Metric.choices, db_index=True)
    value = models.DecimalField(max_digits=9, decimal_places=4)
    threshold = models.DecimalField(max_digits=9, decimal_places=4)
    comparison = models.CharField(max_length=10, choices=Comparison.choices)
    within_threshold = models.BooleanField(db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["assessment_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "group", "metric"], name="fairness_metric_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.group} · {self.metric} = {self.value} (threshold {self.threshold})"


class ConfabulationCheck(PublicIdMixin, TimestampedModel):
    """A check of a generative use case's outputs for confabulated citations, sources or factual claims
    (NIST AI 600-1 MS-2.5-003, MG-4.1-002), with its sample, error rate and result."""

    PUBLIC_ID_PREFIX = "CNF"
    Status = EvidenceStatus

    class Result(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="confabulation_checks")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="confabulation_checks")
    model_name = models.CharField(max_length=200)
    model_version = models.CharField(max_length=100)
    checked_on = models.DateField(db_index=True)
    checks_citations = models.BooleanField("citations checked", default=False)
    checks_sources = models.BooleanField("sources checked", default=False)
    checks_factual_claims = models.BooleanField("factual claims checked", default=False)
    method = models.TextField(help_text="How outputs were sampled and verified.")
    sample_size = models.PositiveIntegerField()
    errors_found = models.PositiveIntegerField()
    near_misses = models.PositiveIntegerField(default=0, help_text="Errors caught before reaching a user (MG-4.3-002).")
    error_rate = models.DecimalField(max_digits=7, decimal_places=6, help_text="errors_found / sample_size")
    max_error_rate = models.DecimalField(max_digits=7, decimal_places=6, help_text="The threshold applied.")
    result = models.CharField(max_length=4, choices=Result.choices, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CURRENT, db_index=True)
    retracted_at = models.DateTimeField(null=True, blank=True)
    retracted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retraction_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-checked_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(sample_size__gte=1), name="confab_sample_positive"),
            models.CheckConstraint(condition=Q(errors_found__lte=F("sample_size")), name="confab_errors_le_sample"),
            models.CheckConstraint(
                condition=Q(checks_citations=True) | Q(checks_sources=True) | Q(checks_factual_claims=True),
                name="confab_checks_something",
            ),
            models.CheckConstraint(
                condition=Q(status="current") | ~Q(retraction_reason=""), name="confab_retraction_reason"
            ),
        ]
        indexes = [models.Index(fields=["project", "use_case", "checked_on"])]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.checked_on} · {self.errors_found}/{self.sample_size} ({self.result})"
