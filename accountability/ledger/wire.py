"""The PostgreSQL append's one statement, sent through libpq itself (psycopg's ``pgconn``) instead of a
psycopg cursor. An append on its own is one round trip whose client side was mostly psycopg's
Python: making a cursor, adapting each of its 24 parameters, its prepared-statement cache and its
result handling cost about 50 µs of CPU per append against about 5 µs for libpq's call and this
module's encoding (benchmarks/ledger.py; README "Appends on their own, fourth round"). On a
2-core machine running eight writers, their PostgreSQL backends and the integrator, every writer's
microsecond is one the others do not get.

Only what the append sends is handled: str (text), bytes and memoryview (binary bytea), aware
datetimes (ISO 8601 text), int and None. Parameter types are left to PostgreSQL to infer from where
each parameter stands (an INSERT's column or a CAST), as psycopg's text dumpers do. Errors are
psycopg's own exception classes, built from the result, so Django translates them as it does for
any other statement."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import weakref

from django.conf import settings

# psycopg connection -> {statement text: prepared statement name}. Weak, so a closed and collected
# connection takes its names with it; a new connection prepares again.
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_serial = itertools.count()


@functools.lru_cache(maxsize=256)  # the intake's batch statements are up to 128 of them
def _numbered(sql: str) -> bytes:
    """``%s`` placeholders as libpq's ``$1``, ``$2``…; the append's statements hold no other ``%``."""
    if "%%" in sql or re.search(r"%[^s]", sql):
        raise ValueError("only %s placeholders are supported")
    count = iter(range(1, sql.count("%s") + 1))
    return re.sub(r"%s", lambda _: f"${next(count)}", sql).encode()


def encode_time(value: dt.datetime) -> bytes:
    """An aware datetime as PostgreSQL reads it (ISO 8601 text)."""
    if value.tzinfo is None:  # Django with USE_TZ sends only aware datetimes
        raise ValueError("naive datetime sent to PostgreSQL")
    return value.isoformat().encode()


def encode(value) -> bytes | None:
    """One parameter as libpq takes it (the format is ``_format``'s)."""
    kind = type(value)
    if kind is str:
        return value.encode()
    if kind is bytes:
        return value
    if value is None:
        return None
    if kind is memoryview:
        return bytes(value)
    if isinstance(value, dt.datetime):
        return encode_time(value)
    if isinstance(value, str):  # a str enum such as EntryType: its string itself, as psycopg sends it
        return str.encode(value)
    if kind is int:
        return b"%d" % value
    raise TypeError(f"cannot send {kind.__name__} through libpq")


def run(raw, sql: str, params: list, *, fetch: str = "") -> object:
    """Run ``sql`` (``%s`` placeholders) with ``params`` on psycopg connection ``raw`` and return
    rows as text: None, the first row or all rows (``fetch`` "", "one" or "all"), each value
    ``bytes`` or None. Prepared once per connection unless ICDEV_LEDGER_PREPARED_STATEMENTS is off
    (a transaction-pooling proxy cannot keep them). Only for autocommit: in a transaction psycopg
    has not begun yet, psycopg would send BEGIN first, and libpq alone would not."""
    values = [encode(v) for v in params]
    formats = [1 if type(v) is bytes or type(v) is memoryview else 0 for v in params]
    return run_encoded(raw, sql, values, formats, fetch=fetch)


def run_encoded(raw, sql: str, values: list, formats, *, fetch: str = "") -> object:
    """``run`` with the parameters already as libpq takes them (``encode``), and ``formats`` 1 for
    each binary one: a caller that knows its columns' types encodes them without the per-value
    dispatch (the append's own row, 18 values per append)."""
    from psycopg import errors, pq

    pgconn = raw.pgconn
    text = _numbered(sql)
    if settings.ICDEV_LEDGER_PREPARED_STATEMENTS:
        result = pgconn.exec_prepared(_name(raw, text, errors, pq), values, formats)
        if result.status == pq.ExecStatus.FATAL_ERROR and result.error_field(pq.DiagnosticField.SQLSTATE) == b"26000":
            # The server no longer has it (a pooler's DISCARD ALL, say): prepare it again, once.
            result.clear()
            _prepared[raw].pop(text, None)
            result = pgconn.exec_prepared(_name(raw, text, errors, pq), values, formats)
    else:
        result = pgconn.exec_params(text, values, None, formats)
    try:
        _check(result, raw, errors, pq)
        if not fetch or result.ntuples == 0:
            return None if fetch != "all" else []
        width = result.nfields
        rows = [tuple(result.get_value(r, c) for c in range(width)) for r in range(result.ntuples)]
        return rows[0] if fetch == "one" else rows
    finally:
        result.clear()


def _name(raw, text: bytes, errors, pq) -> bytes:
    """The name ``text`` is prepared under on ``raw``, preparing it on first use."""
    names = _prepared.get(raw)
    if names is None:
        names = _prepared[raw] = {}
    name = names.get(text)
    if name is None:
        name = b"icdev_ledger_%d" % next(_serial)  # never reused, so never taken on the server
        result = raw.pgconn.prepare(name, text)
        try:
            _check(result, raw, errors, pq)
        finally:
            result.clear()
        names[text] = name
    return name


def _check(result, raw, errors, pq) -> None:
    """Raise psycopg's exception for a failed result (Django's wrapper translates it)."""
    if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        raise errors.error_from_result(result, encoding=raw.info.encoding)
