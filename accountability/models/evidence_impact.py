"""AI impact assessments (M-25-21 §4(b)(ii), sections A–G, with the seed's weighted risk score) and CAIO
waivers of minimum practices (M-25-21 §4(a)(ii)–(iv))."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .base import PublicIdMixin, TimestampedModel
from .registry import AIUseCase, CAIODesignation, Project

_SCORE = {
    "max_digits": 5,
    "decimal_places": 2,
    "null": True,
    "blank": True,
    "validators": [MinValueValidator(0), MaxValueValidator(100)],
}


class ImpactAssessment(PublicIdMixin, TimestampedModel):
    """One version of a use case's AI impact assessment.

    draft --submit--> submitted --review (F)--> reviewed --accept risk (G)--> accepted
    submitted/reviewed --return--> draft; accepted --(a newer version is accepted)--> superseded.
    Only drafts are edited; from submission on the content is frozen, and accepted versions never change.
    """

    PUBLIC_ID_PREFIX = "IA"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted for independent review"
        REVIEWED = "reviewed", "Independently reviewed"
        ACCEPTED = "accepted", "Risk accepted"
        SUPERSEDED = "superseded", "Superseded"

    class RiskClass(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Recommendation(models.TextChoices):
        CONCUR = "concur", "Concur"
        CONCUR_WITH_CONDITIONS = "concur_with_conditions", "Concur with conditions"
        DO_NOT_CONCUR = "do_not_concur", "Do not concur"

    OPEN_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.REVIEWED)
    # Section A–E fields an author fills in; F and G are recorded by their own actions.
    CONTENT_FIELDS = (
        "purpose_and_benefits",
        "benefit_metrics",
        "data_quality",
        "protected_class_data",
        "rights_impacts",
        "mitigations",
        "pia_url",
        "reassessment_frequency_days",
        "reassessment_procedures",
        "costs",
        "estimated_annual_cost",
    )
    # Dimension -> score field; each 0-100 where 100 is the riskiest (e.g. human_oversight 100 = none).
    SCORE_FIELDS = {
        "rights": "score_rights",
        "affected_population": "score_affected_population",
        "data_sensitivity": "score_data_sensitivity",
        "reversibility": "score_reversibility",
        "human_oversight": "score_human_oversight",
        "bias": "score_bias",
    }

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="impact_assessments")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="impact_assessments")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    change_summary = models.TextField(blank=True)

    # A. Purpose and expected benefits, with metrics.
    purpose_and_benefits = models.TextField("A. purpose and expected benefits", blank=True)
    benefit_metrics = models.JSONField("A. benefit metrics", default=list, blank=True, help_text="[{name, target}]")
    # B. Quality and appropriateness of the data, including protected-class information.
    data_quality = models.TextField("B. data quality and fitness", blank=True)
    protected_class_data = models.TextField("B. protected-class information in the data", blank=True)
    # C. Impacts on privacy, civil rights and civil liberties, and their mitigations.
    rights_impacts = models.TextField("C. privacy, civil-rights and civil-liberties impacts", blank=True)
    mitigations = models.TextField("C. mitigations", blank=True)
    pia_url = models.URLField("C. privacy impact assessment", blank=True)
    # D. Reassessment schedule and procedures (including after significant modification).
    reassessment_frequency_days = models.PositiveIntegerField("D. reassessment every (days)", null=True, blank=True)
    reassessment_procedures = models.TextField("D. reassessment procedures", blank=True)
    # E. Costs.
    costs = models.TextField("E. costs", blank=True)
    estimated_annual_cost = models.DecimalField(
        "E. estimated annual cost (USD)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    # F. Independent review by someone not involved in developing the system.
    developers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Users who developed the AI system; none of them may be its independent reviewer.",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_name = models.CharField(max_length=200, blank=True)
    reviewer_office = models.CharField(max_length=200, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    review_comments = models.TextField("F. review comments (passed to the risk acceptor)", blank=True)
    review_recommendation = models.CharField(max_length=24, choices=Recommendation.choices, blank=True)
    # G. Signed risk acceptance.
    risk_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    risk_acceptor_name = models.CharField(max_length=200, blank=True)
    risk_acceptor_title = models.CharField(max_length=200, blank=True)
    risk_accepted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    risk_acceptance_statement = models.TextField(blank=True)
    use_case_stage_at_acceptance = models.CharField(
        max_length=20,
        choices=AIUseCase.Stage.choices,
        blank=True,
        help_text="The use case's stage when the risk was accepted: deployed means it was not completed before "
        "deployment.",
    )
    next_reassessment_due = models.DateField(null=True, blank=True, db_index=True)

    # Weighted risk score (seed 003 ai_impact_assessor); weights and thresholds snapshot the policy used.
    score_rights = models.DecimalField(**_SCORE)
    score_affected_population = models.DecimalField(**_SCORE)
    score_data_sensitivity = models.DecimalField(**_SCORE)
    score_reversibility = models.DecimalField(**_SCORE)
    score_human_oversight = models.DecimalField(**_SCORE)
    score_bias = models.DecimalField(**_SCORE)
    risk_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True, db_index=True)
    risk_class = models.CharField(max_length=6, choices=RiskClass.choices, blank=True, db_index=True)
    score_parameters = models.JSONField(default=dict, blank=True, help_text="Weights and thresholds used.")
    scored_at = models.DateTimeField(null=True, blank=True)

    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[developers])

    class Meta:
        ordering = ["use_case_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["use_case", "version"], name="impact_version_unique"),
            models.UniqueConstraint(
                fields=["use_case"],
                condition=Q(status__in=["draft", "submitted", "reviewed"]),
                name="impact_one_open_version",
            ),
            models.UniqueConstraint(fields=["use_case"], condition=Q(status="accepted"), name="impact_one_accepted"),
            models.CheckConstraint(condition=Q(version__gte=1), name="impact_version_positive"),
            models.CheckConstraint(
                condition=~Q(status__in=["reviewed", "accepted", "superseded"]) | Q(reviewed_at__isnull=False),
                name="impact_reviewed_has_review",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["accepted", "superseded"]) | Q(risk_accepted_at__isnull=False),
                name="impact_accepted_has_acceptance",
            ),
            models.CheckConstraint(
                condition=Q(reviewer__isnull=True)
                | ~Q(reviewer=F("risk_accepted_by"))
                | Q(risk_accepted_by__isnull=True),
                name="impact_reviewer_not_acceptor",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"]),
            models.Index(fields=["use_case", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.use_case.public_id} v{self.version} ({self.status})"


class WaiverQuerySet(models.QuerySet):
    def with_status(self, on: dt.date | None = None):
        """Annotate ``current_status`` (revoked / recertification_overdue / active) and
        ``omb_report_overdue`` (a grant or revocation not reported to OMB by its due date)."""
        on = on or timezone.localdate()
        return self.annotate(
            current_status=Case(
                When(revoked_on__isnull=False, then=Value(Waiver.Status.REVOKED)),
                When(next_recertification_due__lt=on, then=Value(Waiver.Status.RECERTIFICATION_OVERDUE)),
                default=Value(Waiver.Status.ACTIVE),
                output_field=models.CharField(),
            ),
            omb_report_overdue=Case(
                When(Q(grant_reported_to_omb_on__isnull=True, grant_omb_report_due__lt=on), then=Value(True)),
                When(
                    Q(revoked_on__isnull=False, revocation_reported_to_omb_on__isnull=True)
                    & Q(revocation_omb_report_due__lt=on),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=models.BooleanField(),
            ),
        )

    def active(self, on: dt.date | None = None):
        """Waivers in force on ``on``: not revoked and recertified in time."""
        on = on or timezone.localdate()
        return self.filter(revoked_on__isnull=True, next_recertification_due__gte=on, granted_on__lte=on)


class Waiver(PublicIdMixin, TimestampedModel):
    """A CAIO waiver of one or more minimum practices for one use case (M-25-21 §4(a)(ii)).

    Issued, recertified and revoked only by the project's active CAIO (non-delegable). Status is derived:
    revoked, recertification overdue (past ``next_recertification_due``), else active. OMB report due
    dates are stored when the clock starts (grant, revocation).
    """

    PUBLIC_ID_PREFIX = "WVR"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RECERTIFICATION_OVERDUE = "recertification_overdue", "Recertification overdue"
        REVOKED = "revoked", "Revoked"

    class Basis(models.TextChoices):
        INCREASES_RISK = "increases_risk", "Compliance would increase risks to safety or rights overall"
        IMPEDES_OPERATIONS = (
            "impedes_operations",
            "Compliance would create an unacceptable impediment to critical agency operations",
        )

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="waivers")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="waivers")
    caio_designation = models.ForeignKey(
        CAIODesignation,
        on_delete=models.PROTECT,
        related_name="waivers",
        help_text="The designation it was issued under.",
    )
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(max_length=20, choices=Basis.choices)
    determination = models.TextField("written determination")
    risk_assessment = models.TextField("system- and context-specific risk assessment")
    granted_on = models.DateField(db_index=True)
    recertified_on = models.DateField(null=True, blank=True)
    recertification_note = models.TextField(blank=True)
    next_recertification_due = models.DateField(db_index=True)
    grant_omb_report_due = models.DateField(db_index=True)
    grant_reported_to_omb_on = models.DateField(null=True, blank=True)
    revoked_on = models.DateField(null=True, blank=True, db_index=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revocation_reason = models.TextField(blank=True)
    revocation_omb_report_due = models.DateField(null=True, blank=True, db_index=True)
    revocation_reported_to_omb_on = models.DateField(null=True, blank=True)
    public_summary_url = models.URLField(blank=True, help_text="The public summary (M-25-21 §4(a)(iv)).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    objects = WaiverQuerySet.as_manager()

    class Meta:
        ordering = ["project__key", "-granted_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | ~Q(revocation_reason=""), name="waiver_revocation_reason"
            ),
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revocation_omb_report_due__isnull=False),
                name="waiver_revocation_report_due",
            ),
            models.CheckConstraint(
                condition=Q(next_recertification_due__gt=F("granted_on")), name="waiver_recert_after_grant"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "use_case"]),
            models.Index(fields=["project", "revoked_on", "next_recertification_due"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.use_case.public_id} ({self.status})"

    def status_on(self, on: dt.date | None = None) -> str:
        on = on or timezone.localdate()
        if self.revoked_on:
            return self.Status.REVOKED
        if self.next_recertification_due < on:
            return self.Status.RECERTIFICATION_OVERDUE
        return self.Status.ACTIVE

    @property
    def status(self) -> str:
        return self.status_on()

    def omb_report_overdue_on(self, on: dt.date | None = None) -> bool:
        on = on or timezone.localdate()
        if self.grant_reported_to_omb_on is None and self.grant_omb_report_due < on:
            return True
        return bool(
            self.revoked_on
            and self.revocation_reported_to_omb_on is None
            and self.revocation_omb_report_due
            and self.revocation_omb_report_due < on
        )


class WaivedPractice(TimestampedModel):
    """One minimum practice a waiver covers; a row per practice so checks can join practices to waivers."""

    waiver = models.ForeignKey(Waiver, on_delete=models.PROTECT, related_name="practices")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="waived_practices")
    practice = models.CharField(max_length=32, choices=[(p, p.replace("_", " ")) for p in AIUseCase.MINIMUM_PRACTICES])
    history = HistoricalRecords()

    class Meta:
        ordering = ["waiver_id", "practice"]
        constraints = [models.UniqueConstraint(fields=["waiver", "practice"], name="waived_practice_unique")]
        indexes = [models.Index(fields=["use_case", "practice"])]

    def __str__(self) -> str:
        return f"{self.waiver.public_id} · {self.practice}"
