"""The append's own statements: on PostgreSQL they are prepared once per connection (and Django's are
left alone), and the invitation check's grant lookup travels in the pending INSERT; on SQLite the
datetimes go in exactly as the ORM would write them."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import IntegrityError, connection, transaction

from accountability.ledger.append import append_entry
from accountability.ledger.models import LedgerEntry, PendingEntry
from accountability.ledger.store import _adapt_time

from .conftest import action_entry

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's prepared statements")


def _prepared() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql ORDER BY prepare_time")
        return [row[0] for row in cur.fetchall()]


@postgres_only
@pytest.mark.django_db
def test_the_pending_insert_with_its_grant_lookup_is_prepared_and_djangos_statements_are_not(project, grant):
    for n in range(3):
        result = append_entry(**action_entry(n, project_key=project.key))
        assert result.violations == []  # the grant was read in the INSERT's statement
    for _ in range(8):
        list(PendingEntry.objects.filter(project_key=project.key).values_list("entry_id", flat=True))
    statements = _prepared()
    # The fixtures' governance entries (no grant to read) used the plain INSERT; nothing else is prepared.
    assert [s.split(" (", 1)[0] for s in statements] == ["INSERT INTO ledger_pendingentry", "WITH appended AS"]
    assert statements[1].startswith("WITH appended AS (INSERT INTO ledger_pendingentry (entry_id, ")
    assert ") SELECT g.action_types FROM ledger_scopegrant g JOIN accountability_project p " in statements[1]
    assert PendingEntry.objects.filter(project_key=project.key, entry_type="action").count() == 3


@postgres_only
@pytest.mark.django_db
def test_an_append_outside_the_grant_read_in_the_same_statement_still_records_its_violation(project, grant):
    export = {"type": "data.export", "description": "Exported", "rationale": "asked"}
    result = append_entry(**action_entry(1, project_key=project.key, action=export))
    assert len(result.violations) == 1
    assert PendingEntry.objects.get(entry_id=result.violations[0]).entry_type == "violation"


@postgres_only
@pytest.mark.django_db
def test_prepared_statements_can_be_turned_off_for_a_transaction_pooling_proxy(project, grant, settings):
    settings.ICDEV_LEDGER_PREPARED_STATEMENTS = False
    with connection.cursor() as cur:
        cur.execute("DEALLOCATE ALL")  # what the fixtures' appends prepared
    connection.connection.prepare_threshold = None  # as Django opens a connection
    for n in range(3):
        append_entry(**action_entry(n, project_key=project.key))
    assert _prepared() == []
    assert connection.connection.prepare_threshold is None


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's datetime text")
@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 11, 22, 20, 10, 5, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 22, 20, 10, 5, tzinfo=dt.UTC),  # no microseconds: str() omits them, as the ORM does
        dt.datetime(2026, 11, 22, 21, 10, 5, 7, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
        None,
    ],
)
def test_datetimes_are_written_as_the_orm_writes_them(value):
    assert _adapt_time(value, connection) == connection.ops.adapt_datetimefield_value(value)


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's datetime text")
@pytest.mark.django_db
def test_an_inline_entry_reads_back_with_the_times_it_was_given(project, grant):
    occurred = dt.datetime.now(zoneinfo.ZoneInfo("Europe/Paris")).replace(microsecond=0)
    result = append_entry(**action_entry(1, project_key=project.key, occurred_at=occurred))
    entry = LedgerEntry.objects.get(seq=result.seq)
    assert entry.occurred_at == occurred
    assert entry.expires_at == occurred + dt.timedelta(days=90)
    assert entry.recorded_at >= entry.received_at


@postgres_only
@pytest.mark.django_db
def test_each_append_writes_only_the_indexes_the_queries_need_and_no_like_index_for_entry_ids():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE tablename IN (%s, %s) ORDER BY 1, 2",
            [LedgerEntry._meta.db_table, PendingEntry._meta.db_table],
        )
        found = cur.fetchall()
    assert found == [
        ("ledger_ledgerentry", "ledger_actor_time"),
        ("ledger_ledgerentry", "ledger_corrects"),
        ("ledger_ledgerentry", "ledger_entry_id_unique"),
        ("ledger_ledgerentry", "ledger_expiry"),
        ("ledger_ledgerentry", "ledger_ledgerentry_entry_hash_key"),
        ("ledger_ledgerentry", "ledger_ledgerentry_pkey"),
        ("ledger_ledgerentry", "ledger_ledgerentry_previous_hash_key"),
        ("ledger_ledgerentry", "ledger_project_seq"),
        ("ledger_ledgerentry", "ledger_task_time"),
        ("ledger_ledgerentry", "ledger_trace"),
        ("ledger_ledgerentry", "ledger_type_time"),
        ("ledger_pendingentry", "ledger_pending_entry_id_unique"),
        ("ledger_pendingentry", "ledger_pendingentry_pkey"),
    ]


@pytest.mark.django_db
def test_a_second_entry_with_the_same_id_is_refused_by_the_database(project, grant):
    first = append_entry(**action_entry(1, project_key=project.key))
    pending = PendingEntry.objects.filter(entry_id=first.entry_id).first()
    if pending is not None:  # PostgreSQL: still queued
        pending.pk = None
        duplicate = pending
    else:  # SQLite: sequenced inline
        duplicate = LedgerEntry.objects.get(entry_id=first.entry_id)
        duplicate.seq, duplicate.entry_hash, duplicate.previous_hash = 10_000, b"\x01" * 32, b"\x02" * 32
    with pytest.raises(IntegrityError, match="entry_id"), transaction.atomic():
        duplicate.save(force_insert=True)


def _column_values_as_before(p, row, db) -> dict:
    """The inline INSERT's values as the store laid them out before ``_insert_plan``: one per concrete
    field in model order, each datetime through ``_adapt_time`` (the reference for the test below)."""
    from accountability.ledger.store import _column_plan_for

    plan = _column_plan_for(db.vendor)[1]
    values = {}
    for f, (kind, value) in zip(LedgerEntry._meta.concrete_fields, plan, strict=True):
        value = getattr(p, value) if kind == 0 else row[value] if kind == 1 else value
        if f.get_internal_type() == "DateTimeField":
            value = _adapt_time(value, db)
        values[f.column] = value
    return values


@pytest.mark.django_db
@pytest.mark.parametrize(
    "zone",
    [dt.UTC, zoneinfo.ZoneInfo("Europe/Paris")],  # the UTC shortcut, and the backend's own adapter
)
@pytest.mark.parametrize("expires", [True, False])
def test_the_inline_insert_sends_every_column_the_value_the_model_order_layout_sent(zone, expires, monkeypatch):
    from accountability.ledger import store
    from accountability.ledger.build import build

    sent = []
    monkeypatch.setattr(store, "_run", lambda db, sql, values, *a, **k: sent.append((sql, values)))
    occurred = dt.datetime(2026, 11, 22, 21, 10, 5, 7 if zone is dt.UTC else 0, tzinfo=zone)
    p = build(**action_entry(3, occurred_at=occurred)).prepared()
    if not expires:
        p.expires_at = None
    recorded = dt.datetime(2026, 11, 22, 20, 10, 6, 123456, tzinfo=zone)
    row = (41, recorded, b"{leaf}", b"\x07" * 32, b"\x08" * 32, 12 if expires else None)
    db = store._db()
    store._insert_rows([(p, row)], db)
    ((sql, values),) = sent
    columns = [c.strip().strip('"') for c in sql.split("(", 1)[1].split(")", 1)[0].split(",")]
    assert dict(zip(columns, values, strict=True)) == _column_values_as_before(p, row, db)
    assert sorted(columns) == sorted(f.column for f in LedgerEntry._meta.concrete_fields)


@pytest.mark.django_db
def test_the_inline_head_read_gives_the_times_the_orm_reads(project, grant):
    from accountability.ledger import store
    from accountability.ledger.models import LedgerHead
    from accountability.ledger.services.integration import integrate_pending

    append_entry(**action_entry(1, project_key=project.key))
    integrate_pending()  # PostgreSQL: sequences the queue; both: the head gets a checkpoint time
    head, orm = store._select_head(lock=False), LedgerHead.objects.get(pk=1)
    assert head.last_recorded_at == orm.last_recorded_at
    assert head.last_recorded_at.utcoffset() == dt.timedelta(0)
    assert head.checkpoint_at == orm.checkpoint_at
    assert head.checkpoint_at is not None
    # A time written by the ORM (naive UTC text on SQLite) reads back the same way.
    LedgerHead.objects.filter(pk=1).update(checkpoint_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    assert store._select_head(lock=False).checkpoint_at == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
