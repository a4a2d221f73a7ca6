"""Writing stored audits in bulk: rows built from the reports, inserted with a bulk INSERT, or with
PostgreSQL's COPY when an audit of every project writes thousands of rows. Runs and results are new,
written once (append-only), so neither path goes through ``save()``."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router
from django.utils import timezone

from .models import AuditRun, CheckResult

RESULT_COLUMNS = (
    "run_id",
    "project_id",
    "check_id",
    "aliases",
    "framework",
    "credits",
    "check_version",
    "framework_version",
    "title",
    "severity",
    "status",
    "summary",
    "subjects_total",
    "subjects_failing",
    "evidence",
    "remediation",
)
JSON_COLUMNS = {"aliases", "credits", "evidence"}
COPY_FROM = 100  # rows from which COPY beats a multi-row INSERT


def compact(coverage: list[dict]) -> list[dict]:
    """Stored coverage keeps each requirement's status; which checks credit it is on the stored results."""
    return [
        {**fw, "requirement_status": {r["id"]: r["status"] for r in fw["requirement_status"]}}
        if "requirement_status" in fw
        else fw
        for fw in coverage
    ]


def result_rows(runs: list[AuditRun], reports: dict):
    """One row (RESULT_COLUMNS) per check result of every run."""
    for run in runs:
        report = reports[run.project_id]
        versions = {code: fw.version for code, fw in report.catalogue.frameworks.items()}
        for r in report.results:
            check = r.check
            yield (
                run.pk,
                run.project_id,
                check.id,
                list(check.aliases),
                check.framework,
                check.credits,
                check.version,
                versions[check.framework],
                check.title[:200],
                check.severity,
                r.status,
                r.summary,
                r.counts["total"],
                r.failing_total,
                r.evidence(),
                check.remediation,
            )


def _use_copy(model, count: int) -> bool:
    return connections[router.db_for_write(model)].vendor == "postgresql" and count >= COPY_FROM


def _copy(model, columns: list[str], rows, json_columns: set[str]) -> None:
    connection = connections[router.db_for_write(model)]
    json_at = [i for i, name in enumerate(columns) if name in json_columns]
    encode = DjangoJSONEncoder().encode
    names = ", ".join(f'"{name}"' for name in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
        for row in rows:
            row = list(row)
            for i in json_at:
                row[i] = encode(row[i])
            copy.write_row(row)


def allocate_ids(runs: list[AuditRun]) -> bool:
    """On PostgreSQL, give the runs ids from the table's sequence (then ``insert_runs`` copies them, ledger
    entry ids included, with no update afterwards); False when the database assigns ids at insert."""
    if connections[router.db_for_write(AuditRun)].vendor != "postgresql" or not runs:
        return False
    with connections[router.db_for_write(AuditRun)].cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [AuditRun._meta.db_table, len(runs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    now = timezone.now()
    for run, pk in zip(runs, ids, strict=True):
        run.pk, run.created_at = pk, now
    return True


def insert_runs(runs: list[AuditRun]) -> None:
    """Insert the runs: COPY when their ids were allocated, else a bulk INSERT that sets their ids."""
    if runs and runs[0].pk is not None:
        fields = list(AuditRun._meta.concrete_fields)
        json_columns = {f.column for f in fields if f.get_internal_type() == "JSONField"}
        rows = ([getattr(r, f.attname) for f in fields] for r in runs)  # psycopg adapts the Python values
        _copy(AuditRun, [f.column for f in fields], rows, json_columns)
        for run in runs:
            run._state.adding = False
        return
    AuditRun.objects.bulk_create(runs)
    if any(run.pk is None for run in runs):  # a backend that cannot return ids from a bulk insert
        runs[:] = [
            AuditRun.objects.filter(project_id=r.project_id, evaluated_at=r.evaluated_at).latest("pk") for r in runs
        ]


def insert_results(rows: list[tuple]) -> None:
    """Insert check results (COPY for a large batch, else a bulk INSERT)."""
    if not _use_copy(CheckResult, len(rows)):
        CheckResult.objects.bulk_create(
            [CheckResult(**dict(zip(RESULT_COLUMNS, row, strict=True))) for row in rows], batch_size=2000
        )
        return
    _copy(CheckResult, list(RESULT_COLUMNS), rows, JSON_COLUMNS)
