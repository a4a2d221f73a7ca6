"""Reads of stored audits, scoped to the projects where the actor may see audits (audit.view)."""

from __future__ import annotations

from django.db.models import QuerySet

from accountability.models import Project
from accountability.permissions import Perm
from accountability.selectors._scope import get_by_public_id, scoped

from .models import AuditRun, CheckResult


def audit_run_list(actor, project: Project | None = None) -> QuerySet[AuditRun]:
    """Stored audit runs the actor may see, newest first."""
    return scoped(AuditRun.objects.select_related("project"), actor, Perm.AUDIT_VIEW, project)


def audit_run_get(actor, public_id: str) -> AuditRun:
    """One stored run by its public id (AUD-00001); NotFound when absent or not visible."""
    return get_by_public_id(AuditRun, audit_run_list(actor), public_id)


def check_result_list(actor, project: Project | None = None, run: AuditRun | None = None) -> QuerySet[CheckResult]:
    """Stored check results the actor may see (of one run when given)."""
    qs = scoped(CheckResult.objects.select_related("run", "project"), actor, Perm.AUDIT_VIEW, project)
    return qs.filter(run=run) if run is not None else qs


def latest_run(actor, project: Project) -> AuditRun | None:
    """The project's most recent stored run, if any."""
    return audit_run_list(actor, project).first()
