"""Stored audits: one ``AuditRun`` per project and audit, one ``CheckResult`` per check evaluated.

Both are append-only evidence (like the ledger): written once by ``assessors.services.audit_run``, in the
transaction that also writes the run's Governance ledger entry, and never updated or deleted. They
carry no simple-history table for the same reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, models

from accountability.models.base import PublicIdMixin


class _AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise IntegrityError(f"{self._meta.verbose_name} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise IntegrityError(f"{self._meta.verbose_name} rows are never deleted.")


class AuditRun(PublicIdMixin, _AppendOnly):
    """One cross-framework audit of one project: scores, coverage, gaps and the gate decision."""

    PUBLIC_ID_PREFIX = "AUD"

    class Trigger(models.TextChoices):
        CLI = "cli", "Command line"
        API = "api", "API"
        ADMIN = "admin", "Admin"
        DEMO = "demo", "Demo loader"
        SCHEDULE = "schedule", "Schedule"

    class Gate(models.TextChoices):
        PASSED = "passed", "Passed"
        WARNINGS = "warnings", "Passed with warnings"
        BLOCKED = "blocked", "Blocked"
        NOT_EVALUATED = "not_evaluated", "Not evaluated (partial audit)"

    project = models.ForeignKey("accountability.Project", on_delete=models.PROTECT, related_name="+")
    evaluated_at = models.DateTimeField(db_index=True, help_text="The clock the checks were evaluated at.")
    created_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(default=0)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="Username or system actor, copied.")
    requested_frameworks = models.JSONField(default=list, blank=True, help_text="Empty: every framework.")
    requested_checks = models.JSONField(default=list, blank=True, help_text="Empty: every check.")
    catalogue_digest = models.CharField(max_length=64, help_text="SHA-256 of the catalogue files used.")
    framework_versions = models.JSONField(default=dict, help_text="{code: catalogue version} of the frameworks used.")
    score = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True, help_text="Unified score 0–100.")
    checks_total = models.PositiveIntegerField(default=0)
    checks_passed = models.PositiveIntegerField(default=0)
    checks_partial = models.PositiveIntegerField(default=0)
    checks_failed = models.PositiveIntegerField(default=0)
    checks_not_applicable = models.PositiveIntegerField(default=0)
    coverage = models.JSONField(default=list, help_text="Coverage per framework.")
    gaps = models.JSONField(default=list, help_text="Failing and partial checks ranked by severity.")
    gate_status = models.CharField(max_length=14, choices=Gate.choices, db_index=True)
    gate = models.JSONField(default=dict, blank=True, help_text="Blocking and warning conditions with evidence.")
    ledger_entry_id = models.CharField(max_length=40, blank=True, db_index=True)

    class Meta:
        ordering = ["-evaluated_at", "-id"]
        verbose_name = "audit run"
        indexes = [models.Index(fields=["project", "-evaluated_at"])]

    def __str__(self) -> str:
        return f"{self.public_id} · {self.project_id} · {self.evaluated_at:%Y-%m-%d %H:%M}"


class CheckResult(_AppendOnly):
    """The result of one check in one audit run, with its evidence and the versions it was judged by."""

    class Status(models.TextChoices):
        PASS = "pass", "Pass"
        PARTIAL = "partial", "Partial"
        FAIL = "fail", "Fail"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    run = models.ForeignKey(AuditRun, on_delete=models.PROTECT, related_name="results")
    project = models.ForeignKey("accountability.Project", on_delete=models.PROTECT, related_name="+")
    check_id = models.CharField(max_length=20, db_index=True)
    aliases = models.JSONField(default=list, blank=True)
    framework = models.CharField(max_length=12, help_text="The check's own framework code.")
    credits = models.JSONField(default=list, help_text="Requirements credited, as FRAMEWORK:requirement.")
    check_version = models.PositiveIntegerField()
    framework_version = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=14, choices=Status.choices, db_index=True)
    summary = models.TextField()
    subjects_total = models.PositiveIntegerField(default=0)
    subjects_failing = models.PositiveIntegerField(default=0)
    evidence = models.JSONField(default=dict, help_text="Counts, failing objects with links, parameters used.")
    remediation = models.TextField(blank=True)

    class Meta:
        ordering = ["run_id", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "check_id"], name="checkresult_once_per_run")]
        indexes = [models.Index(fields=["project", "check_id", "-run"]), models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return f"{self.check_id} · {self.status}"
