"""The append's statement sent through libpq directly (``wire``): parameters arrive as psycopg would
have sent them, statements are prepared once per connection (or never, when prepared statements are
off), a statement the server lost is prepared again, and errors are Django's database errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection

from accountability.ledger import alone, wire
from accountability.ledger.schema import EntryType
from accountability.ledger.store import ENTRY_COLUMNS


def test_placeholders_are_numbered_in_order():
    numbered = wire._numbered("SELECT %s, x FROM t WHERE a = %s AND b = %s")
    assert numbered == b"SELECT $1, x FROM t WHERE a = $2 AND b = $3"


@pytest.mark.parametrize("sql", ["SELECT %s WHERE a LIKE 'x%%'", "SELECT %b", "SELECT %(name)s"])
def test_other_percent_signs_are_refused(sql):
    with pytest.raises(ValueError, match="only %s placeholders"):
        wire._numbered(sql)


def test_parameters_encode_as_text_or_binary():
    at = dt.datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=dt.UTC)
    assert wire.encode("naïve") == "naïve".encode()
    assert wire.encode(EntryType.DECISION) == b"decision"
    assert wire.encode(b"\x00\xff") == b"\x00\xff"
    assert wire.encode(memoryview(b"ab")) == b"ab"
    assert wire.encode(at) == b"2026-11-23T01:02:03.456789+00:00"
    assert wire.encode(-42) == b"-42"
    assert wire.encode(None) is None


def test_naive_datetimes_and_unknown_types_are_refused():
    with pytest.raises(ValueError, match="naive datetime"):
        wire.encode(dt.datetime(2026, 11, 23))
    with pytest.raises(TypeError, match="cannot send float"):
        wire.encode(1.5)


def _raw():
    connection.ensure_connection()
    return connection.connection


@pytest.mark.postgres
@pytest.mark.django_db
def test_values_round_trip_as_postgresql_reads_them():
    at = dt.datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    row = wire.run(
        _raw(),
        "SELECT %s::text, octet_length(%s::bytea), encode(%s::bytea, 'hex'), %s::timestamptz AT TIME ZONE 'UTC', "
        "%s::bigint + 1, %s::text IS NULL",
        ["naïve", b"\x00\x01\x02", memoryview(b"\xff"), at, 2**40, None],
        fetch="one",
    )
    assert row == (
        "naïve".encode(),
        b"3",
        b"ff",
        b"2026-11-23 06:02:03.456789",
        str(2**40 + 1).encode(),
        b"t",
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_fetch_modes():
    raw = _raw()
    sql = "SELECT g FROM generate_series(1, %s::int) g"
    assert wire.run(raw, sql, [3], fetch="all") == [(b"1",), (b"2",), (b"3",)]
    assert wire.run(raw, sql, [3], fetch="one") == (b"1",)
    assert wire.run(raw, sql, [0], fetch="one") is None
    assert wire.run(raw, sql, [0], fetch="all") == []
    assert wire.run(raw, sql, [3]) is None


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_is_prepared_once_per_connection():
    raw = _raw()
    sql = "SELECT %s::int * 2"
    assert wire.run(raw, sql, [2], fetch="one") == (b"4",)
    assert wire.run(raw, sql, [5], fetch="one") == (b"10",)
    name = wire._prepared[raw][wire._numbered(sql)]
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = %s", [name.decode()])
        assert cur.fetchone() == (1,)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # autocommit, where ``wire`` is used
def test_a_statement_the_server_dropped_is_prepared_again():
    raw = _raw()
    sql = "SELECT %s::int + 100"
    assert wire.run(raw, sql, [1], fetch="one") == (b"101",)
    old = wire._prepared[raw][wire._numbered(sql)]
    with connection.cursor() as cur:
        cur.execute(f"DEALLOCATE {old.decode()}")
    assert wire.run(raw, sql, [2], fetch="one") == (b"102",)
    assert wire._prepared[raw][wire._numbered(sql)] != old


@pytest.mark.postgres
@pytest.mark.django_db
def test_without_prepared_statements_nothing_is_prepared(settings):
    settings.ICDEV_LEDGER_PREPARED_STATEMENTS = False
    raw = _raw()
    wire._prepared.pop(raw, None)
    assert wire.run(raw, "SELECT %s::int - 1", [8], fetch="one") == (b"7",)
    assert raw not in wire._prepared


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_errors_are_djangos_and_the_failed_statement_writes_nothing():
    with connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE wire_t (k text PRIMARY KEY)")
    alone._send(connection, "INSERT INTO wire_t (k) VALUES (%s)", [b"a"], [0])
    with pytest.raises(IntegrityError, match="duplicate key"):
        alone._send(connection, "INSERT INTO wire_t (k) VALUES (%s)", [b"a"], [0])
    with connection.cursor() as cur:  # autocommit: the connection is usable and holds one row
        cur.execute("SELECT count(*) FROM wire_t")
        assert cur.fetchone() == (1,)


def _prepared(**changes):
    from accountability.ledger.build import build

    built = build(
        entry_type=EntryType.ACTION,
        actor={"model_id": "claude-opus", "provider": "anthropic"},
        action={"type": "code.review", "description": "Reviewed naïve code", "rationale": "Asked to."},
        accountability={"human_oversight": "audit", "reversibility": "reversible"},
        project_key="proj-ü",
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    )
    prepared = built.prepared()
    for name, value in changes.items():
        setattr(prepared, name, value)
    return prepared


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"expires_at": None, "corrects_entry_id": "LED-01KAMBCDEFGHJKMNPQRSTVWXYZ"},
        {"entry_type": EntryType.DECISION, "attribution_gaps": "no_approver no_oversight"},
        {"occurred_at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))},
        {"payload": memoryview(b"{}"), "payload_salt": memoryview(b"s" * 16)},
    ],
)
def test_the_spelt_out_row_encodes_as_the_general_encoder_does(changes):
    prepared = _prepared(**changes)
    general = [wire.encode(getattr(prepared, c)) for c in ENTRY_COLUMNS]
    assert alone.row_values(prepared) == [bytes(v) if v is not None else None for v in general]
    binary = [1 if isinstance(getattr(prepared, c), bytes | memoryview) else 0 for c in ENTRY_COLUMNS]
    assert binary == alone.ROW_FORMATS


def test_the_spelt_out_row_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive datetime"):
        alone.row_values(_prepared(received_at=dt.datetime(2026, 11, 23)))
