"""The governance registry: projects, memberships, AI use cases, CAIO designations, oversight plans,
stakeholders and their contractual obligations. Rows change only through ``accountability.services``."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .base import PublicIdMixin, TimestampedModel

PROJECT_KEY_RE = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
project_key_validator = RegexValidator(
    PROJECT_KEY_RE, "Use lower-case letters, digits and single hyphens, starting with a letter (e.g. proj-123)."
)


class Project(TimestampedModel):
    """A governed programme of AI work; every governance row belongs to exactly one project."""

    key = models.CharField(
        max_length=50,
        unique=True,
        validators=[project_key_validator],
        help_text="Human key used by every CLI and API call, e.g. proj-123. Never changes.",
    )
    name = models.CharField(max_length=200)
    organization = models.CharField("agency / organisation", max_length=200)
    program = models.CharField(max_length=200, blank=True)
    is_federal_agency = models.BooleanField(
        "federal agency",
        default=False,
        help_text="An agency under 44 U.S.C. 3502(1): OMB M-25-21 applies (a CAIO designation is required).",
    )
    is_cfo_act_agency = models.BooleanField(
        "CFO Act agency", default=False, help_text="CFO Act agencies carry extra M-25-21 duties (board, strategy)."
    )
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_cfo_act_agency=False) | Q(is_federal_agency=True),
                name="project_cfo_act_implies_federal",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} · {self.name}"


class Membership(TimestampedModel):
    """A user's role in one project. A user may hold several roles in the same project."""

    class Role(models.TextChoices):
        GOVERNANCE_STAFF = "governance_staff", "Governance staff"
        CAIO = "caio", "Chief AI Officer"
        REVIEWER = "reviewer", "Reviewer"
        ETHICS_BOARD = "ethics_board", "Ethics board member"
        INCIDENT_RESPONDER = "incident_responder", "Incident responder"
        AUDITOR = "auditor", "Auditor (read-only)"
        APPELLANT = "appellant", "Appellant"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="icdev_memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["project__key", "user__username", "role"]
        constraints = [models.UniqueConstraint(fields=["project", "user", "role"], name="membership_unique_role")]
        indexes = [models.Index(fields=["user", "project"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.project.key}"


class AIUseCase(PublicIdMixin, TimestampedModel):
    """An entry of the AI use-case inventory (OMB M-25-21 §3(b)(v) and the OMB 2025 reporting fields)."""

    PUBLIC_ID_PREFIX = "UC"

    class Stage(models.TextChoices):
        PRE_DEPLOYMENT = "pre_deployment", "Pre-deployment"
        PILOT = "pilot", "Pilot"
        DEPLOYED = "deployed", "Deployed"
        RETIRED = "retired", "Retired"

    class HighImpact(models.TextChoices):
        HIGH = "high", "High-impact"
        NOT_HIGH = "not_high", "Not high-impact"
        PRESUMED_DETERMINED_NOT = "presumed_high_determined_not", "Presumed high-impact, but determined not"
        NOT_ASSESSED = "not_assessed", "Not assessed"

    class HighImpactBasis(models.TextChoices):
        # M-25-21 §5: output is a principal basis for decisions with legal, material, binding or
        # significant effect on ...
        CIVIL_RIGHTS = "civil_rights", "Civil rights, civil liberties or privacy"
        ACCESS = "access", "Access to education, housing, insurance, credit, employment or other programs"
        GOVERNMENT_SERVICES = "government_services", "Access to critical government resources or services"
        HEALTH_SAFETY = "health_safety", "Human health and safety"
        CRITICAL_INFRASTRUCTURE = "critical_infrastructure", "Critical infrastructure or public safety"
        STRATEGIC_ASSETS = "strategic_assets", "Strategic assets or resources"

    class PresumedCategory(models.TextChoices):
        # M-25-21 §6 (a)–(o), condensed labels.
        A = "a", "(a) Safety-critical functions of critical infrastructure"
        B = "b", "(b) Physical movements of robots or vehicles"
        C = "c", "(c) Kinetic or lethal measures"
        D = "d", "(d) Control of hazardous agents"
        E = "e", "(e) Design of safety-critical systems"
        F = "f", "(f) Healthcare: medical devices, diagnosis, treatment"
        G = "g", "(g) Physical access to facilities and security"
        H = "h", "(h) Sanctions, trade and export controls"
        I = "i", "(i) Limiting protected speech"  # noqa: E741 - the memo's own lettering
        J = "j", "(j) Law enforcement: risk scores, identification, tracking, sentencing"
        K = "k", "(k) Immigration, asylum, border decisions"
        L = "l", "(l) Public one-to-many biometric identification"
        M = "m", "(m) Benefits eligibility, fraud, penalties"
        N = "n", "(n) Federal employment terms and conditions"
        O = "o", "(o) Binding translation or interpretation"  # noqa: E741

    class DevelopmentMethod(models.TextChoices):
        VENDOR = "vendor", "Developed by a vendor"
        IN_HOUSE = "in_house", "Developed in-house"
        BOTH = "both", "Vendor and in-house"

    class PracticeStatus(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        IMPLEMENTED = "implemented", "Implemented"
        WAIVED = "waived", "CAIO waived and reported to OMB"

    # The OMB 2025 fields asked of high-impact deployed use cases (M-25-21 §4(b)(i)-(vii)).
    MINIMUM_PRACTICES = (
        "testing",
        "impact_assessment",
        "potential_impacts",
        "independent_review",
        "monitoring",
        "operator_training",
        "fail_safe",
        "appeal_process",
        "public_consultation",
    )

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="use_cases")
    name = models.CharField(max_length=200)
    bureau = models.CharField("bureau / component", max_length=200, blank=True)
    purpose = models.TextField("purpose / problem addressed", blank=True)
    benefits = models.TextField("expected benefits", blank=True)
    outputs = models.TextField("AI system outputs", blank=True)
    topic_area = models.CharField(max_length=120, blank=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.PRE_DEPLOYMENT, db_index=True)

    high_impact_determination = models.CharField(
        max_length=32, choices=HighImpact.choices, default=HighImpact.NOT_ASSESSED, db_index=True
    )
    high_impact_bases = models.JSONField(default=list, blank=True, help_text="M-25-21 §5 bases.")
    presumed_categories = models.JSONField(default=list, blank=True, help_text="M-25-21 §6 categories (a–o).")
    high_impact_justification = models.TextField(
        blank=True, help_text="Required when a presumed high-impact use is determined not to be high-impact."
    )
    determination_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    determination_at = models.DateTimeField(null=True, blank=True)

    is_generative = models.BooleanField("generative AI", default=False)
    is_agentic = models.BooleanField("agentic AI", default=False)
    is_llm_procured = models.BooleanField("procured LLM", default=False)
    development_method = models.CharField(max_length=20, choices=DevelopmentMethod.choices, blank=True)
    vendor_name = models.CharField(max_length=200, blank=True)

    responsible_official = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responsible_official_name = models.CharField(max_length=200, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    withheld = models.BooleanField("withheld from the public inventory", default=False)
    withheld_reason = models.TextField(blank=True)

    operational_date = models.DateField(null=True, blank=True)
    ato_system_name = models.CharField("ATO / system name", max_length=200, blank=True)
    data_description = models.TextField(blank=True)
    involves_pii = models.BooleanField("involves PII", null=True, blank=True)
    pia_url = models.URLField("privacy impact assessment link", blank=True)
    demographic_features = models.TextField(blank=True)
    has_custom_code = models.BooleanField(null=True, blank=True)
    code_url = models.URLField(blank=True)
    minimum_practices = models.JSONField(
        default=dict, blank=True, help_text="Status of each M-25-21 §4(b) minimum practice."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["project__key", "id"]
        verbose_name = "AI use case"
        constraints = [
            models.CheckConstraint(
                condition=~Q(high_impact_determination="presumed_high_determined_not")
                | ~Q(high_impact_justification=""),
                name="usecase_presumed_not_high_needs_justification",
            ),
            models.CheckConstraint(
                condition=Q(withheld=False) | ~Q(withheld_reason=""), name="usecase_withheld_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "stage"]),
            models.Index(fields=["project", "high_impact_determination"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.name}"

    @property
    def is_high_impact(self) -> bool:
        return self.high_impact_determination == self.HighImpact.HIGH


class CAIODesignationQuerySet(models.QuerySet):
    def with_status(self, on: dt.date | None = None):
        """Annotate ``current_status`` (active / scheduled / expired / revoked) for filtering."""
        on = on or timezone.localdate()
        return self.annotate(
            current_status=Case(
                When(revoked_at__isnull=False, then=Value(CAIODesignation.Status.REVOKED)),
                When(expiry_date__lt=on, then=Value(CAIODesignation.Status.EXPIRED)),
                When(effective_date__gt=on, then=Value(CAIODesignation.Status.SCHEDULED)),
                default=Value(CAIODesignation.Status.ACTIVE),
                output_field=models.CharField(),
            )
        )

    def active(self, on: dt.date | None = None):
        on = on or timezone.localdate()
        return self.filter(revoked_at__isnull=True, effective_date__lte=on).filter(
            Q(expiry_date__isnull=True) | Q(expiry_date__gte=on)
        )


class CAIODesignation(PublicIdMixin, TimestampedModel):
    """A Chief AI Officer designation (M-25-21 §3(a)(i)) with its delegation chain (D317).

    Status is derived: revoked (an action with a reason), expired (past the expiry date), scheduled
    (before the effective date), else active.
    """

    PUBLIC_ID_PREFIX = "CAIO"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SCHEDULED = "scheduled", "Scheduled"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    class Scope(models.TextChoices):
        PROJECT = "project", "Project"
        PROGRAM = "program", "Program"
        AGENCY = "agency", "Agency"

    class Grade(models.TextChoices):
        SES = "ses", "SES"
        ST = "st", "ST"
        SL = "sl", "SL"
        GS15 = "gs15", "GS-15"
        GS14 = "gs14", "GS-14"
        OTHER = "other", "Other / not federal"

    SCOPE_RANK = {Scope.PROJECT: 1, Scope.PROGRAM: 2, Scope.AGENCY: 3}

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="caio_designations")
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="caio_designations"
    )
    official_name = models.CharField(max_length=200)
    official_email = models.EmailField()
    official_title = models.CharField(max_length=200, blank=True)
    grade = models.CharField(max_length=10, choices=Grade.choices, blank=True)
    authority_scope = models.CharField(max_length=10, choices=Scope.choices)
    delegation_chain = models.JSONField(
        default=list,
        blank=True,
        help_text="Ordered delegates; each is delegated by the one before (the first by the CAIO).",
    )
    effective_date = models.DateField()
    expiry_date = models.DateField(null=True, blank=True)
    omb_notified_at = models.DateField("date OMB was notified", null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    objects = CAIODesignationQuerySet.as_manager()

    class Meta:
        ordering = ["project__key", "-effective_date", "-id"]
        verbose_name = "CAIO designation"
        constraints = [
            models.CheckConstraint(
                condition=Q(expiry_date__isnull=True) | Q(expiry_date__gte=models.F("effective_date")),
                name="caio_expiry_after_effective",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoked_reason=""), name="caio_revocation_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.official_name} ({self.get_authority_scope_display()})"

    def status_on(self, on: dt.date | None = None) -> str:
        on = on or timezone.localdate()
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expiry_date and self.expiry_date < on:
            return self.Status.EXPIRED
        if self.effective_date > on:
            return self.Status.SCHEDULED
        return self.Status.ACTIVE

    @property
    def status(self) -> str:
        return self.status_on()


class OversightPlan(PublicIdMixin, TimestampedModel):
    """A human-oversight plan (seed 003 §3, D316): identity only; content lives in immutable versions."""

    PUBLIC_ID_PREFIX = "OSP"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="oversight_plans")
    use_case = models.ForeignKey(
        AIUseCase,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="oversight_plans",
        help_text="Empty for a project-wide plan (e.g. for agentic workflows).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["project__key", "id"]

    def __str__(self) -> str:
        return self.public_id


class OversightPlanVersion(TimestampedModel):
    """One version of an oversight plan. A change inserts version n+1 as a draft; approving it makes
    it active and archives the previously active version. Content is never updated in place."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    plan = models.ForeignKey(OversightPlan, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    name = models.CharField(max_length=200)
    roles = models.JSONField(default=list, blank=True)
    escalation_path = models.JSONField(default=list, blank=True)
    hitl_checkpoints = models.JSONField("human-in-the-loop checkpoints", default=list, blank=True)
    approval_required = models.BooleanField(default=True)
    intervention_role = models.CharField(
        max_length=120, blank=True, help_text="The role that can intervene in or stop the AI (M-25-21 §4(b)(v))."
    )
    fail_safe = models.TextField(blank=True)
    fail_safe_not_applicable_reason = models.TextField(blank=True)
    change_summary = models.TextField(blank=True)
    template = models.CharField(max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="oversight_version_unique"),
            models.UniqueConstraint(fields=["plan"], condition=Q(status="active"), name="oversight_one_active_version"),
            models.UniqueConstraint(fields=["plan"], condition=Q(status="draft"), name="oversight_one_draft_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="oversight_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.public_id} v{self.version} ({self.status})"


class Stakeholder(PublicIdMixin, TimestampedModel):
    """A party sharing accountability for a use case (seed 000), with its share of responsibility."""

    PUBLIC_ID_PREFIX = "SH"

    class Role(models.TextChoices):
        AI_TOOL_PROVIDER = "ai_tool_provider", "AI tool provider"
        SYSTEM_INTEGRATOR = "system_integrator", "System integrator"
        END_USER_DEVELOPER = "end_user_developer", "End-user developer"
        DEPLOYER = "deployer", "Deployer"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="stakeholders")
    use_case = models.ForeignKey(AIUseCase, on_delete=models.PROTECT, related_name="stakeholders")
    name = models.CharField("party", max_length=200)
    role = models.CharField(max_length=24, choices=Role.choices)
    organization = models.CharField(max_length=200, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    responsibility_share = models.DecimalField(
        "responsibility share (%)",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    responsibilities = models.TextField(blank=True, help_text="What this party controls and answers for.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["use_case_id", "-responsibility_share", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(responsibility_share__gte=0) & Q(responsibility_share__lte=100),
                name="stakeholder_share_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()}, {self.responsibility_share}%)"


class ContractualObligation(PublicIdMixin, TimestampedModel):
    """A contractual obligation of a stakeholder, with its SLA metric and target (seed 000)."""

    PUBLIC_ID_PREFIX = "OBL"

    class Metric(models.TextChoices):
        DEFECT_RESPONSE_HOURS = "defect_response_hours", "Defect response (hours)"
        INCIDENT_NOTIFICATION_HOURS = "incident_notification_hours", "Incident notification (hours)"
        REMEDIATION_DAYS = "remediation_days", "Remediation (days)"
        AVAILABILITY_PERCENT = "availability_percent", "Availability (%)"
        REVIEW_COVERAGE_PERCENT = "review_coverage_percent", "Human review coverage (%)"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        MET = "met", "Met"
        BREACHED = "breached", "Breached"
        WAIVED = "waived", "Waived"
        ENDED = "ended", "Ended"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="obligations")
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.PROTECT, related_name="obligations")
    description = models.TextField()
    sla_metric = models.CharField(max_length=32, choices=Metric.choices, blank=True)
    sla_target = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    contract_reference = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    status_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["stakeholder_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sla_metric="") | Q(sla_target__isnull=False), name="obligation_metric_needs_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.description[:60]}"
