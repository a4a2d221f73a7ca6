"""Running audits: evaluate (read-only) or run and store (an AuditRun, its CheckResults and a Governance
ledger entry, in one transaction). Every interface (CLI, API, admin, demo loader) calls these."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from django.db import transaction

from accountability.actors import actor_label, is_system
from accountability.exceptions import ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import Project
from accountability.permissions import Perm, is_unrestricted, require, visible_projects

from .audit import AuditReport, build_reports, paused_gc
from .catalogue import Check, get_catalogue
from .engine import Engine
from .models import AuditRun
from .storage import allocate_ids, compact, insert_results, insert_runs, result_rows


def select_checks(frameworks: list[str] | None, check_ids: list[str] | None) -> list[Check]:
    """The active checks for the requested frameworks and/or check ids (aliases accepted)."""
    catalogue = get_catalogue()
    errors = {}
    for name in frameworks or []:
        try:
            catalogue.framework_code(name)
        except KeyError:
            errors.setdefault("frameworks", []).append(f"Unknown framework {name!r}.")
    for cid in check_ids or []:
        try:
            catalogue.resolve(cid)
        except KeyError:
            errors.setdefault("checks", []).append(f"Unknown check {cid!r}.")
    if errors:
        raise ValidationFailed(errors)
    checks = catalogue.select(frameworks, check_ids)
    if not checks:
        raise ValidationFailed({"checks": ["No active check matches the request."]})
    return checks


def _evaluate(projects: list[Project] | None, frameworks, check_ids, now, on_result) -> dict[int, AuditReport]:
    checks = select_checks(frameworks, check_ids)
    complete = not frameworks and not check_ids
    engine = Engine(get_catalogue(), project_ids=None if projects is None else [p.pk for p in projects], now=now)
    return build_reports(
        engine, checks, complete=complete, frameworks=frameworks, check_ids=check_ids, on_result=on_result
    )


def audit_evaluate(
    *,
    actor,
    project: Project,
    frameworks: list[str] | None = None,
    check_ids: list[str] | None = None,
    now: dt.datetime | None = None,
    on_result=None,
) -> AuditReport:
    """Evaluate the project's checks (and gate, for a complete audit) without storing anything."""
    require(actor, project, Perm.AUDIT_VIEW)
    return _evaluate([project], frameworks, check_ids, now, on_result)[project.pk]


def audit_evaluate_many(*, actor, now: dt.datetime | None = None) -> list[AuditReport]:
    """Evaluate every project the actor may read audits of, each check once for all (nothing stored)."""
    if is_unrestricted(actor):
        reports = _evaluate(None, None, None, now, None)
    else:
        projects = list(visible_projects(actor, Perm.AUDIT_VIEW))
        reports = _evaluate(projects, None, None, now, None) if projects else {}
    return sorted(reports.values(), key=lambda r: r.project.key)


def audit_run(
    *,
    actor,
    project: Project,
    trigger: str,
    frameworks: list[str] | None = None,
    check_ids: list[str] | None = None,
    now: dt.datetime | None = None,
    on_result=None,
) -> AuditRun:
    """Run and store an audit of one project, with its Governance ledger entry in the same transaction."""
    require(actor, project, Perm.AUDIT_RUN)
    started = time.perf_counter()
    report = _evaluate([project], frameworks, check_ids, now, on_result)[project.pk]
    return _store(actor, {project.pk: project}, {project.pk: report}, trigger, started)[0]


def audit_run_many(
    *, actor, trigger: str, projects: list[Project] | None = None, now: dt.datetime | None = None
) -> list[AuditRun]:
    """Run and store a complete audit of many projects, each check evaluated once for all of them.
    ``projects=None`` means every project the actor may audit."""
    if projects is None:
        projects = list(Project.objects.all() if is_unrestricted(actor) else visible_projects(actor, Perm.AUDIT_RUN))
        scope = None if is_unrestricted(actor) else projects
    else:
        for project in projects:
            require(actor, project, Perm.AUDIT_RUN)
        scope = projects
    if not projects:
        return []
    started = time.perf_counter()
    reports = _evaluate(scope, None, None, now, None)
    return _store(actor, {p.pk: p for p in projects}, reports, trigger, started)


@transaction.atomic
def _store(actor, projects: dict[int, Project], reports: dict[int, AuditReport], trigger: str, started) -> list:
    """Write the runs of ``reports`` with their ledger entries and results, in one transaction."""
    elapsed = int((time.perf_counter() - started) * 1000)
    with paused_gc():  # thousands of runs and results to encode: nothing cyclic to collect
        return _write(actor, projects, reports, trigger, elapsed)


def _write(actor, projects: dict[int, Project], reports: dict[int, AuditReport], trigger: str, elapsed: int) -> list:
    """The runs, their ledger entries and their results (in ``_store``'s transaction)."""
    user = None if is_system(actor) else actor
    runs = []
    for pid, report in reports.items():
        if pid not in projects:
            continue
        counts = report.counts
        gate = report.gate.stored_dict() if report.gate else {}
        runs.append(
            AuditRun(
                project_id=pid,
                evaluated_at=report.evaluated_at,
                duration_ms=elapsed,
                trigger=trigger,
                actor=user,
                actor_label=actor_label(actor),
                requested_frameworks=report.frameworks_requested,
                requested_checks=report.checks_requested,
                catalogue_digest=report.catalogue.digest,
                framework_versions={c: fw.version for c, fw in report.catalogue.frameworks.items()},
                score=None if report.score is None else Decimal(str(report.score)),
                checks_total=counts["total"],
                checks_passed=counts["pass"],
                checks_partial=counts["partial"],
                checks_failed=counts["fail"],
                checks_not_applicable=counts["not_applicable"],
                coverage=compact(report.coverage),
                gaps=report.gaps,
                gate_status=gate.get("status", AuditRun.Gate.NOT_EVALUATED),
                gate=gate,
            )
        )
    # The ledger entry names the run, so the run needs its id first. On PostgreSQL the ids come from the
    # sequence: entries are written, then the runs with their entry ids (COPY). Elsewhere the runs are
    # inserted, the entries written, and the entry id set in the same transaction (the one write after
    # insert a run ever gets).
    preallocated = allocate_ids(runs)
    if not preallocated:
        insert_runs(runs)
    for run in runs:
        run.ledger_entry_id = _ledger_entry(actor, projects[run.project_id], run).entry_id
    if preallocated:
        insert_runs(runs)
    else:
        AuditRun.objects.bulk_update(runs, ["ledger_entry_id"], batch_size=1000)
    insert_results(list(result_rows(runs, reports)))
    return runs


def _ledger_entry(actor, project: Project, run: AuditRun):
    return record_governance(
        actor=actor,
        project=project,
        action_type="audit.run",
        description=_describe(run),
        subject=run,
        changes={
            "score": None if run.score is None else str(run.score),
            "passed": run.checks_passed,
            "partial": run.checks_partial,
            "failed": run.checks_failed,
            "not_applicable": run.checks_not_applicable,
            "gate": run.gate_status,
            "catalogue_digest": run.catalogue_digest,
        },
    )


def _describe(run: AuditRun) -> str:
    gate = {"blocked": "gate blocked", "warnings": "gate passed with warnings", "passed": "gate passed"}.get(
        run.gate_status, "partial audit"
    )
    return (
        f"Audit {run.public_id}: score {run.score}, {run.checks_passed} pass, {run.checks_partial} partial, "
        f"{run.checks_failed} fail, {run.checks_not_applicable} n/a; {gate}"
    )
