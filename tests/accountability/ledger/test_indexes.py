"""Every append writes every index of the entry table, so the table keeps only the indexes queries
need, and these tests check that each selector still finds an index path: the query plan SQLite
chooses for the exact statement (and parameters) the selector runs. SQLite only: without
statistics its planner takes any usable index, so the plan is deterministic; PostgreSQL's choice
depends on table statistics."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from accountability.ledger import store
from accountability.ledger.append import append_entry
from accountability.ledger.models import LedgerEntry
from accountability.ledger.selectors import (
    actions_by_model,
    actor_refs,
    corrections_of,
    decision_chain,
    decision_entry_for_trace,
    entry_get,
    ledger_metrics,
    violations_between,
)
from accountability.ledger.services.retention import ledger_purge

from .conftest import SYSTEM, action_entry

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's query plans; PostgreSQL's depend on stats"),
]
TABLE = "ledger_ledgerentry"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def plans(run) -> list[str]:
    """The query plan of every statement ``run`` sends that reads the entry table, one string each:
    through Django's cursor, and through the driver's own (``store._run``, the ledger's hot paths)."""
    statements = []

    def keep(sql, params):
        if TABLE in sql and sql.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((sql, params))

    def capture(execute, sql, params, many, context):
        keep(sql, params)
        return execute(sql, params, many, context)

    real = store._run

    def driver(db, sql, params=(), fetch="", **options):
        keep(sql, params)
        return real(db, sql, params, fetch, **options)

    with connection.execute_wrapper(capture), mock.patch.object(store, "_run", driver):
        run()
    found = []
    with connection.cursor() as cur:
        for sql, params in statements:
            cur.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            found.append(" | ".join(row[-1] for row in cur.fetchall()))
    return found


def unique_index_of(column: str) -> str:
    """The name of the automatic index behind a one-column UNIQUE constraint of the entry table."""
    with connection.cursor() as cur:
        cur.execute(f"PRAGMA index_list({TABLE})")
        for _, name, unique, *_ in cur.fetchall():
            cur.execute(f"PRAGMA index_info({name})")
            if unique and [row[2] for row in cur.fetchall()] == [column]:
                return name
    raise AssertionError(f"no UNIQUE index on {column}")


def uses(run, index: str) -> bool:
    return any(f"INDEX {index} " in f"{plan} " for plan in plans(run))


@pytest.fixture
def entries(project, grant):
    first = append_entry(**action_entry(1, project_key=project.key, context={"task_id": "TASK-1", "trace_id": TRACE}))
    append_entry(**action_entry(2, project_key=project.key))
    return first


def test_the_append_writes_none_of_the_partial_indexes_for_an_entry_without_trace_correction_or_expiry():
    with connection.cursor() as cur:
        cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [TABLE])
        named = {name: sql for name, sql in cur.fetchall() if sql}
    assert sorted(named) == [
        "ledger_actor_time",
        "ledger_corrects",
        "ledger_expiry",
        "ledger_project_seq",
        "ledger_task_time",
        "ledger_trace",
        "ledger_type_time",
    ]
    assert named["ledger_trace"].endswith("""WHERE "trace_id" > ''""")
    assert named["ledger_corrects"].endswith("""WHERE "corrects_entry_id" > ''""")
    assert named["ledger_expiry"].endswith("""WHERE ("expires_at" IS NOT NULL AND "payload" IS NOT NULL)""")


def test_seq_is_the_rowid_so_the_primary_key_needs_no_index_of_its_own():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NULL", [TABLE]
        )
        automatic = cur.fetchone()[0]
        cur.execute(f"EXPLAIN QUERY PLAN SELECT * FROM {TABLE} WHERE seq = %s", [5])  # noqa: S608
        plan = cur.fetchone()[-1]
    assert automatic == 3  # UNIQUE entry_id, entry_hash, previous_hash; none for the primary key
    assert plan == f"SEARCH {TABLE} USING INTEGER PRIMARY KEY (rowid=?)"


def searches_only(run) -> bool:
    """Every statement ``run`` sends reads the entry table through an index (no full scan)."""
    found = plans(run)
    return bool(found) and all(plan.startswith(f"SEARCH {TABLE} USING ") for plan in found)


def test_a_trace_lookup_can_use_the_partial_trace_index(entries):
    by_trace = LedgerEntry.objects.filter(trace_id=TRACE, trace_id__gt="")
    assert uses(lambda: list(by_trace), "ledger_trace")
    assert [e.entry_id for e in by_trace] == [entries.entry_id]


def test_a_decision_is_found_by_trace_through_an_index(entries, project):
    # Without statistics SQLite prefers (entry_type, occurred_at) here, as it did before the trace
    # index became partial; PostgreSQL picks by selectivity. Either way no statement scans the table.
    assert searches_only(lambda: decision_entry_for_trace(TRACE, project.key))


def test_corrections_are_found_through_the_partial_corrects_index(entries):
    assert uses(lambda: corrections_of(entries.entry_id), "ledger_corrects")


def test_audit_queries_use_their_indexes(entries, project):
    now = timezone.now()
    assert uses(lambda: actions_by_model(SYSTEM, "claude-opus", since=now - dt.timedelta(days=1)), "ledger_actor_time")
    assert uses(lambda: decision_chain(SYSTEM, "TASK-1"), "ledger_task_time")
    assert uses(lambda: violations_between(SYSTEM, now - dt.timedelta(days=1), now), "ledger_type_time")
    assert uses(lambda: entry_get(SYSTEM, entries.entry_id), unique_index_of("entry_id"))
    assert uses(lambda: actor_refs(SYSTEM), "ledger_actor_time")  # the admin's actor filter


def test_the_metrics_time_window_uses_the_type_and_time_index(entries):
    assert uses(lambda: ledger_metrics(SYSTEM, days=7), "ledger_type_time")


def test_expired_payloads_can_be_found_through_the_partial_expiry_index(entries):
    # The sweep itself (ORDER BY seq LIMIT n) is planned by SQLite as a scan in seq order, as it was
    # with the full expiry index; PostgreSQL picks by selectivity. The index serves the condition.
    soon = timezone.now() + dt.timedelta(days=91)
    expired = LedgerEntry.objects.filter(payload__isnull=False, expires_at__lte=soon).order_by()
    assert uses(lambda: list(expired), "ledger_expiry")
    assert expired.count() == 2
    assert ledger_purge(dry_run=True).count == 0


def test_a_page_of_entries_after_a_cursor_is_a_seq_range_read_with_no_count(entries, api, superuser):
    first = api.as_user(superuser).get("/api/v1/ai-accountability/ledger/entries?page_size=1").json()
    found = plans(lambda: api.get(first["next"]))
    assert found == [f"SEARCH {TABLE} USING INTEGER PRIMARY KEY (rowid<?)"]
