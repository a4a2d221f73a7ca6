"""Benchmark of the cross-framework audit on PostgreSQL (issue 6). Prints figures and ratios; not a test.

    python benchmarks/audit.py                         # 1,000 projects, ~1,000,000 rows, icdev_bench_audit
    python benchmarks/audit.py --projects 200 --runs 50 --database icdev_bench_audit_small

It creates (once) a dedicated database, fills it set-based (``benchmarks/audit_data.py``; reused on
re-runs, ``--regenerate`` refills), then measures:

* a full audit of one project (every framework, gate included) — evaluated only, and run-and-stored
  (AuditRun, 29 CheckResults, a ledger entry) — over ``--runs`` random projects: p50, p99, round trips
  to PostgreSQL and the SQL statements they carried;
* an audit of every project at once (each check evaluated once, set-based across projects) —
  evaluated only, and run-and-stored.

The audit sends the queries it knows it needs in one round trip (a multi-statement query; for one project
as EXECUTEs of statements prepared once per session), so round trips and statements differ: both are shown.
Targets: one project <= 20 ms p50 with queries bounded by the number of checks; all projects <= 2 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--projects", type=int, default=1000)
    p.add_argument("--database", default="icdev_bench_audit")
    p.add_argument("--host", default="127.0.0.1:5432")
    p.add_argument("--runs", type=int, default=200, help="single-project audits measured (after 10 warm-ups)")
    p.add_argument("--repeat", type=int, default=3, help="runs of the all-projects audit (median reported)")
    p.add_argument("--regenerate", action="store_true", help="refill the tables")
    return p.parse_args()


def ensure_database(name: str, host: str) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@{host}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(args) -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}/{args.database}"
    os.environ.setdefault("ICDEV_ENV", "development")
    os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "icdev.settings")
    import django

    django.setup()


def timed(fn):
    """Seconds, round trips, SQL statements that read rows (PREPAREs left out), and the value of ``fn()``."""
    from django.db import connection

    count = [0, 0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        count[1] += sum(not s.startswith(("PREPARE ", "DEALLOCATE ")) for s in sql.split(";\n"))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        value = fn()
        elapsed = time.perf_counter() - started
    return elapsed, count[0], count[1], value


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def single(args, actor) -> None:
    from accountability.models import Project
    from assessors.services import audit_evaluate, audit_run

    projects = list(Project.objects.filter(key__startswith="bench-"))
    rng = random.Random(6)
    for project in rng.sample(projects, 10):  # warm caches, connection and catalogue
        audit_evaluate(actor=actor, project=project)
    for label, fn in (
        ("evaluate (no write)", lambda p: audit_evaluate(actor=actor, project=p)),
        ("run and store", lambda p: audit_run(actor=actor, project=p, trigger="schedule")),
    ):
        times, trips, statements = [], [], []
        for _ in range(args.runs):
            elapsed, n, m, _ = timed(lambda: fn(rng.choice(projects)))  # noqa: B023 - called at once
            times.append(elapsed * 1000)
            trips.append(n)
            statements.append(m)
        p50, p99 = statistics.median(times), pct(times, 0.99)
        print(
            f"one project, {label:<20} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  (target p50 20 ms: "
            f"{p50 / 20:.2f}x)  round trips {min(trips)}–{max(trips)}  statements "
            f"{min(statements)}–{max(statements)}"
        )


def every_project(args, actor) -> None:
    from accountability.models import Project
    from assessors.audit import build_reports
    from assessors.catalogue import get_catalogue
    from assessors.engine import Engine
    from assessors.services import audit_run_many

    catalogue = get_catalogue()
    n = Project.objects.count()

    def evaluate():
        engine = Engine(catalogue, project_ids=None)
        return build_reports(engine, catalogue.active_checks(), complete=True)

    for label, fn in (
        ("evaluate (no write)", evaluate),
        ("run and store", lambda: audit_run_many(actor=actor, trigger="schedule")),
    ):
        samples = [timed(fn) for _ in range(args.repeat)]
        samples.sort(key=lambda s: s[0])
        elapsed, trips, statements, value = samples[len(samples) // 2]
        print(
            f"all {n:,} projects, {label:<20} {elapsed:6.2f} s  (target 2 s: {elapsed / 2:.2f}x)  "
            f"round trips {trips}  statements {statements}  ({len(value):,} project reports)"
        )


def main() -> None:
    args = parse()
    ensure_database(args.database, args.host)
    setup_django(args)
    from django.core.management import call_command
    from django.db import connection

    from accountability.actors import SystemActor
    from accountability.models import Project
    from benchmarks.audit_data import fill

    call_command("migrate", verbosity=0)
    if args.regenerate or Project.objects.filter(key__startswith="bench-").count() != args.projects:
        print(f"filling {args.projects:,} projects …", flush=True)
        fill(args.projects)
    with connection.cursor() as c:
        c.execute(
            "SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE relname LIKE 'accountability_%%' "
            "AND relname NOT LIKE 'accountability_historical%%'"
        )
        rows = c.fetchone()[0]
        c.execute("TRUNCATE assessors_checkresult, assessors_auditrun")
    print(f"\nPostgreSQL {connection.pg_version // 10000}, {args.projects:,} projects, ~{rows:,} governance rows\n")
    actor = SystemActor("bench:audit")
    single(args, actor)
    every_project(args, actor)
    print("\nStatements are bounded by the catalogue (29 checks): the same for one project or all of them.")


if __name__ == "__main__":
    main()
