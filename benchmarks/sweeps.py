"""Benchmark of the beat sweeps over a million open rows on PostgreSQL (issue 4). Prints figures; not a test.

    python benchmarks/sweeps.py                       # 1,000,000 incidents and schedules; 1,000 and 10,000 crossing
    python benchmarks/sweeps.py --rows 200000 --crossing 2000 --database icdev_bench_small

It creates (once) a dedicated database, fills it set-based with ``generate_series``, then per sweep:
resets the crossing rows, runs the sweep cold (flags, notifies), runs it again (must flag nothing) and
reports wall-clock seconds, SQL queries and rows flagged. Target: <= 2 s per sweep, queries independent
of the table size (set-based, no Python loop over every row).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="open incidents, and active schedules")
    p.add_argument(
        "--crossing",
        default="1000,10000",
        help="rows that crossed a deadline since the last sweep (comma-separated scenarios)",
    )
    p.add_argument("--projects", type=int, default=20)
    p.add_argument("--database", default="icdev_bench_sweeps")
    p.add_argument("--host", default="127.0.0.1:5432")
    p.add_argument("--repeat", type=int, default=3, help="cold runs per sweep (median reported)")
    p.add_argument("--regenerate", action="store_true", help="drop and refill the tables")
    return p.parse_args()


def ensure_database(name: str, host: str) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@{host}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(args) -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}/{args.database}"
    os.environ.setdefault("ICDEV_ENV", "development")
    os.environ["CELERY_BROKER_URL"] = "memory://localhost/"  # follow-up tasks (e-mails, webhooks) go nowhere
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "icdev.settings")
    import django

    django.setup()


def fill(args) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from accountability.models import Incident, Membership, Project, ReassessmentSchedule

    if not args.regenerate and Incident.objects.count() >= args.rows:
        print(f"reusing {Incident.objects.count():,} incidents and {ReassessmentSchedule.objects.count():,} schedules")
        return
    print(f"filling {args.rows:,} incidents and {args.rows:,} schedules in {args.projects} projects …", flush=True)
    started = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE accountability_incident, accountability_historicalincident, accountability_incidentevent, "
            "accountability_incident_use_cases, accountability_reassessmentschedule, "
            "accountability_historicalreassessmentschedule, accountability_notification CASCADE"
        )
    User = get_user_model()
    for i in range(args.projects):
        project, _ = Project.objects.get_or_create(
            key=f"bench-{i:02d}", defaults={"name": f"Bench {i}", "organization": "Bench"}
        )
        user, _ = User.objects.get_or_create(
            username=f"bench-responder-{i:02d}", defaults={"email": f"r{i}@bench.example"}
        )
        Membership.objects.get_or_create(project=project, user=user, role="incident_responder")
        Membership.objects.get_or_create(project=project, user=user, role="governance_staff")
    projects = list(Project.objects.filter(key__startswith="bench-").order_by("key").values_list("pk", flat=True))
    users = list(
        User.objects.filter(username__startswith="bench-responder-").order_by("username").values_list("pk", flat=True)
    )
    with connection.cursor() as c:
        c.execute(
            """
            INSERT INTO accountability_incident (
                created_at, updated_at, project_id, affected_systems, title, description, incident_type, severity,
                status, reporter_name, reported_at, source, data_reported, impacts, stakeholders_impacted,
                assigned_to_id, root_cause, root_cause_tags, lessons_learned, reopen_count, sla_due_at,
                eu_serious, eu_basis, eu_authority_reference)
            SELECT now(), now(), (%(projects)s::bigint[])[1 + abs(hashint4(g)) %% %(n)s], '[]', 'Incident ' || g,
                   '', 'other', 'high',
                   (ARRAY['open', 'investigating', 'mitigated'])[1 + g %% 3], 'bench', now() - interval '1 day', '', '',
                   '', '', CASE WHEN g %% 2 = 0 THEN (%(users)s::bigint[])[1 + abs(hashint4(g)) %% %(n)s] END,
                   '', '[]', '', 0,
                   now() + (1 + g %% 30) * interval '1 day', false, '', ''
            FROM generate_series(1, %(rows)s) g
            """,
            {"projects": projects, "users": users, "n": len(projects), "rows": args.rows},
        )
        c.execute(
            """
            INSERT INTO accountability_reassessmentschedule (
                created_at, updated_at, project_id, assessment_type, frequency_days, anchor_date, next_due, status,
                status_changed_at, due_reason, due_reason_detail, assigned_to_id, is_active, deactivated_reason)
            SELECT now(), now(), (%(projects)s::bigint[])[1 + abs(hashint4(g)) %% %(n)s], 'bias_audit', 90,
                   current_date + 30,
                   current_date + 30 + (g %% 300)::int, 'on_track', now(), 'cadence', '',
                   CASE WHEN g %% 2 = 0 THEN (%(users)s::bigint[])[1 + abs(hashint4(g)) %% %(n)s] END, true, ''
            FROM generate_series(1, %(rows)s) g
            """,
            {"projects": projects, "users": users, "n": len(projects), "rows": args.rows},
        )
        c.execute("VACUUM ANALYZE accountability_incident")
        c.execute("VACUUM ANALYZE accountability_reassessmentschedule")
    print(f"filled in {time.perf_counter() - started:.0f} s")


def reset(args, crossing: int) -> None:
    """Put ``crossing`` rows of each table just past their deadline, everything else on track (setup only)."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute("DELETE FROM accountability_incidentevent")
        c.execute("DELETE FROM accountability_notification")
        c.execute("DELETE FROM accountability_webhookdelivery")
        c.execute(
            "UPDATE accountability_incident SET sla_breached_at = NULL, sla_escalated_at = NULL, "
            "sla_due_at = CASE WHEN id %% %(step)s = 0 THEN now() - interval '5 minutes' "
            "ELSE now() + (1 + id %% 30) * interval '1 day' END "
            "WHERE sla_breached_at IS NOT NULL OR id %% %(step)s = 0",
            {"step": max(args.rows // crossing, 1)},
        )
        c.execute(
            "UPDATE accountability_reassessmentschedule SET status = 'on_track', escalated_at = NULL, "
            "next_due = CASE WHEN id %% %(step)s = 0 THEN current_date - 1 "
            "ELSE current_date + 30 + (id %% 300)::int END "
            "WHERE status <> 'on_track' OR id %% %(step)s = 0",
            {"step": max(args.rows // crossing, 1)},
        )
        c.execute("ANALYZE accountability_incident")
        c.execute("ANALYZE accountability_reassessmentschedule")


def measure(label: str, sweep) -> tuple[float, int, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = sweep().as_dict()
        elapsed = time.perf_counter() - started
    return elapsed, len(queries.captured_queries), result


def main() -> None:
    args = parse()
    ensure_database(args.database, args.host)
    setup_django(args)
    from django.core.management import call_command
    from django.db import connection

    from accountability.actors import SystemActor
    from accountability.services.incident_sweep import incident_sla_sweep
    from accountability.services.reassessment_sweep import reassessment_sweep

    call_command("migrate", verbosity=0)
    fill(args)
    actor = SystemActor("bench:sweeps")
    sweeps = {
        "incident SLA sweep": lambda: incident_sla_sweep(actor=actor),
        "reassessment sweep": lambda: reassessment_sweep(actor=actor),
    }
    scenarios = [int(n) for n in str(args.crossing).split(",")]
    print(f"\nPostgreSQL {connection.pg_version // 10000}, {args.rows:,} open rows per table, batches of 2,000\n")
    print(f"{'sweep':<20} {'crossing':>8} {'run':<10} {'seconds':>8} {'queries':>8}  flagged")
    for label, sweep in sweeps.items():
        for crossing in scenarios:
            cold = []
            for _ in range(args.repeat):
                reset(args, crossing)
                cold.append(measure(label, sweep))
            cold.sort(key=lambda r: r[0])
            seconds, queries, result = cold[len(cold) // 2]
            print(f"{label:<20} {crossing:>8,} {'cold (med)':<10} {seconds:>8.2f} {queries:>8}  {result}")
            seconds, queries, result = measure(label, sweep)
            print(f"{label:<20} {crossing:>8,} {'again':<10} {seconds:>8.2f} {queries:>8}  {result}")
    print("\n'cold' flags and notifies the crossing rows; 'again' is the next beat run (nothing left to flag).")


if __name__ == "__main__":
    main()
