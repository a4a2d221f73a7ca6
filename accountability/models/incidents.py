"""AI incidents (seed 003 goal 5): the incident, its timeline, corrective actions and the notices to the
stakeholder parties of the affected use cases (seed 000). Rows change only through
``accountability.services.incidents*``; the timeline is append-only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .base import PublicIdMixin, TimestampedModel
from .registry import AIUseCase, ContractualObligation, Project, Stakeholder

OPEN_STATUSES = ("open", "investigating", "mitigated")


class Incident(PublicIdMixin, TimestampedModel):
    """An AI incident with its remediation lifecycle, resolution SLA and EU AI Act Art. 73 clock."""

    PUBLIC_ID_PREFIX = "INC"

    class Type(models.TextChoices):
        # Built-in types; configuration (incidents.extra_types) adds more, so the column has no choices.
        CONFABULATION = "confabulation", "Confabulation"
        BIAS_DETECTED = "bias_detected", "Bias detected"
        UNAUTHORIZED_ACCESS = "unauthorized_access", "Unauthorized access"
        MODEL_DRIFT = "model_drift", "Model drift"
        DATA_BREACH = "data_breach", "Data breach"
        SAFETY_VIOLATION = "safety_violation", "Safety violation"
        APPEAL_ESCALATION = "appeal_escalation", "Appeal escalation"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        INVESTIGATING = "investigating", "Investigating"
        MITIGATED = "mitigated", "Mitigated"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class RootCause(models.TextChoices):
        MODEL_FAILURE = "model_failure", "Model failure"
        GOVERNANCE_FAILURE = "governance_failure", "Governance failure"
        MISREPRESENTATION = "misrepresentation", "Misrepresentation of capabilities"
        HUMAN_MISUSE = "human_misuse", "Human misuse"
        DATA_CONSENT = "data_consent", "Training-data or consent issue"
        DEPLOYMENT_FAILURE = "deployment_failure", "Deployment failure"
        VERIFICATION_FAILURE = "verification_failure", "Verification failure"

    class EUBasis(models.TextChoices):
        # EU AI Act Art. 73(2)-(4): which reporting clock applies.
        GENERAL = "general", "Serious incident (15 days)"
        DEATH = "death", "Death of a person (10 days)"
        WIDESPREAD_INFRINGEMENT = "widespread_infringement", "Widespread infringement (2 days)"
        CRITICAL_INFRASTRUCTURE = "critical_infrastructure", "Critical-infrastructure disruption (2 days)"

    # No index of its own: (project, status) below serves every lookup by project (fewer indexes to
    # maintain on each flagged row of an SLA sweep).
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="incidents", db_index=False)
    use_cases = models.ManyToManyField(
        AIUseCase, blank=True, related_name="incidents", verbose_name="affected use cases"
    )
    affected_systems = models.JSONField(
        default=list, blank=True, help_text="Identifiers of affected systems, e.g. ATO names or service ids."
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Indexed in Meta, not with db_index: on PostgreSQL db_index on a CharField adds a second
    # varchar_pattern_ops index for LIKE, which nobody runs on these codes.
    incident_type = models.CharField(max_length=40, default=Type.OTHER)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)

    # Who and when (NIST AI 600-1 GV-4.3-002: reporter, date of incident, system/source, data reported ...).
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reporter_name = models.CharField(max_length=200, blank=True, help_text="Copied, so it survives the account.")
    reported_at = models.DateTimeField(default=timezone.now)
    detected_at = models.DateTimeField(null=True, blank=True)
    occurred_at = models.DateTimeField("date of incident", null=True, blank=True)
    source = models.CharField("system / source", max_length=200, blank=True, help_text="How it came to light.")
    data_reported = models.TextField(blank=True, help_text="Inputs, outputs or records that show the incident.")
    impacts = models.TextField("impact(s)", blank=True)
    stakeholders_impacted = models.TextField("stakeholder(s) impacted", blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Resolution.
    root_cause = models.TextField(blank=True)
    root_cause_tags = models.JSONField(default=list, blank=True)
    lessons_learned = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)

    # Resolution SLA (configuration, per severity), stored when the clock starts; flags set by the sweep.
    sla_due_at = models.DateTimeField()
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    sla_escalated_at = models.DateTimeField(null=True, blank=True)

    # EU AI Act Art. 73 serious incidents.
    eu_serious = models.BooleanField("EU serious incident", default=False)  # incident_eu_report_pending
    eu_basis = models.CharField(max_length=30, choices=EUBasis.choices, blank=True)
    eu_aware_at = models.DateTimeField("became aware at", null=True, blank=True)
    eu_report_due_at = models.DateTimeField("authority report due", null=True, blank=True)
    eu_provider_notified_at = models.DateTimeField("provider informed at", null=True, blank=True)
    eu_authority_notified_at = models.DateTimeField("authority informed at", null=True, blank=True)
    eu_authority_reference = models.CharField(max_length=200, blank=True)
    eu_overdue_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep found the report late.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed"]) | (Q(resolved_at__isnull=False) & ~Q(root_cause="")),
                name="incident_resolved_needs_root_cause",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | (Q(closed_at__isnull=False) & ~Q(lessons_learned="")),
                name="incident_closed_needs_lessons",
            ),
            models.CheckConstraint(
                condition=Q(eu_serious=False) | (~Q(eu_basis="") & Q(eu_report_due_at__isnull=False)),
                name="incident_eu_serious_has_deadline",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"]),
            models.Index(fields=["severity"], name="incident_severity"),
            models.Index(fields=["incident_type"], name="incident_type"),
            # The SLA sweep's queries: unflagged open incidents by deadline, and breached ones to escalate.
            models.Index(
                fields=["sla_due_at"],
                condition=Q(status__in=OPEN_STATUSES, sla_breached_at__isnull=True),
                name="incident_sla_next_due",
            ),
            models.Index(
                fields=["project", "sla_due_at"],
                condition=Q(status__in=OPEN_STATUSES, sla_breached_at__isnull=True),
                name="incident_sla_open_due",
            ),
            models.Index(
                fields=["sla_breached_at"],
                condition=Q(status__in=OPEN_STATUSES, sla_escalated_at__isnull=True, sla_breached_at__isnull=False),
                name="incident_sla_to_escalate",
            ),
            models.Index(
                fields=["eu_report_due_at"],
                condition=Q(eu_serious=True, eu_authority_notified_at__isnull=True, eu_overdue_at__isnull=True),
                name="incident_eu_report_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def sla_breached_on(self, now=None) -> bool:
        """Breached: flagged by the sweep, or still open past the deadline (before the sweep noticed)."""
        now = now or timezone.now()
        return self.sla_breached_at is not None or (self.is_open and self.sla_due_at <= now)

    @property
    def sla_breached(self) -> bool:
        return self.sla_breached_on()


class IncidentEvent(models.Model):
    """One line of an incident's timeline. Append-only; governance acts carry their ledger entry id
    (``LED-…``, a string: ledger entries may be pending integration, so never a foreign key)."""

    class Kind(models.TextChoices):
        LOGGED = "logged", "Logged"
        STATUS = "status", "Status change"
        NOTE = "note", "Note"
        UPDATED = "updated", "Details updated"
        ASSIGNED = "assigned", "Assigned"
        SEVERITY = "severity", "Severity changed"
        ACTION_ADDED = "action_added", "Corrective action added"
        ACTION_STATUS = "action_status", "Corrective action status"
        ACTION_OVERDUE = "action_overdue", "Corrective action overdue"
        SLA_BREACHED = "sla_breached", "SLA breached"
        ESCALATED = "escalated", "Escalated to the CAIO"
        EU_FLAGGED = "eu_flagged", "EU serious incident"
        EU_NOTIFIED = "eu_notified", "EU notification recorded"
        EU_OVERDUE = "eu_overdue", "EU report overdue"
        STAKEHOLDER_NOTIFIED = "stakeholder_notified", "Stakeholder informed"
        STAKEHOLDER_ACK = "stakeholder_ack", "Stakeholder acknowledged"
        LINKED = "linked", "Linked record"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="Username or system actor, copied.")
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15, blank=True)
    message = models.TextField(blank=True)
    ledger_entry_id = models.CharField(max_length=40, blank=True, db_index=True)
    related = models.JSONField(
        default=dict, blank=True, help_text='Links to other records, e.g. {"appeal": "APL-00001"} or {"session": …}.'
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"])]

    def __str__(self) -> str:
        return f"{self.incident_id} · {self.get_kind_display()} · {self.at:%Y-%m-%d %H:%M}"


class CorrectiveAction(PublicIdMixin, TimestampedModel):
    """A remediation step of an incident with an owner, a due date and a status."""

    PUBLIC_ID_PREFIX = "CA"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="corrective_actions")
    description = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_name = models.CharField(max_length=200, blank=True)
    due_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    status_note = models.TextField(blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["incident_id", "due_date", "id"]
        indexes = [
            models.Index(
                fields=["due_date"],
                condition=Q(status__in=["open", "in_progress"], overdue_notified_at__isnull=True),
                name="corrective_action_pending_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.description[:60]}"

    @property
    def is_overdue(self) -> bool:
        return self.status in ("open", "in_progress") and self.due_date < timezone.localdate()


class IncidentStakeholderNotice(TimestampedModel):
    """Coordination with one stakeholder party of an affected use case (seed 000): when it must be
    informed (its ``incident_notification_hours`` obligation, else the configured default), when it was,
    and its acknowledgement."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        TICKET = "ticket", "Ticket / portal"
        OTHER = "other", "Other"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="stakeholder_notices")
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.PROTECT, related_name="incident_notices")
    obligation = models.ForeignKey(
        ContractualObligation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by_name = models.CharField(max_length=200, blank=True)
    acknowledgement = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["incident_id", "due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "stakeholder"], name="incident_notice_once_per_party"),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(notified_at__isnull=False),
                name="incident_notice_ack_after_notice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stakeholder.name} · {self.incident_id}"

    @property
    def is_late(self) -> bool:
        when = self.notified_at or timezone.now()
        return when > self.due_at
