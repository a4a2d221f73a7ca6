"""Compiled-SQL reuse for the engine's shared queries (a prepared-statement cache in spirit).

Building and compiling a grouped query with dozens of filtered aggregates costs far more in Python than
PostgreSQL spends running it. The plan of an audit is deterministic for a catalogue, a check selection,
the policy values and the day, so each query is compiled once with sentinel values for what changes
between audits (the project id) and re-executed with the real values; Django's converters still turn
the rows into Python values, so SQLite and PostgreSQL read alike.

On PostgreSQL the queries an audit knows it needs are sent together (``rows_many``): one round trip for
the whole batch instead of one per query, which is most of what a small audit waits for.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable

from django.db import connections

SENTINEL_PROJECT = -987_654_321  # never a primary key
_MAX_ENTRIES = 512
_CACHE: OrderedDict[tuple, tuple] = OrderedDict()


def rows(key: tuple | None, build: Callable, substitutions: dict | None = None) -> list[dict]:
    """The rows of ``build()`` (a values() queryset) as dicts; compiled once per ``key`` (None: never cached).
    ``substitutions`` maps sentinel parameter values used by ``build`` to the values of this call."""
    if key is None:
        return list(build())
    return _run(_entry(key, build), substitutions)


def _run(entry: tuple, substitutions: dict | None) -> list[dict]:
    """Execute one compiled entry with this call's values."""
    alias, _compiler, sql, params, _names = entry
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _fast_timestamps(connection, cursor)
        cursor.execute(sql, _bind(params, substitutions))
        fetched = cursor.fetchall()
    return _decode(entry, fetched)


def rows_many(requests: list[tuple[tuple | None, Callable]], substitutions: dict | None = None) -> list[list[dict]]:
    """``rows`` of each (key, build) request, in order. On PostgreSQL they travel as one multi-statement
    query (simple protocol, parameters bound client-side as Django does anyway); elsewhere one by one."""
    # Each request as its compiled entry when cached, else as its queryset (built once).
    found = []
    for key, build in requests:
        entry = _cached(key)
        found.append((key, entry, build() if entry is None else None))
    if len(found) < 2 or not _batchable({entry[0] if entry else qs.db for _k, entry, qs in found}):
        return [
            _run(entry, substitutions) if entry else rows(key, lambda q=qs: q, substitutions)
            for key, entry, qs in found
        ]
    entries = [entry or _compiled(key, qs) for key, entry, qs in found]
    connection = connections[entries[0][0]]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        _fast_timestamps(connection, cursor)
        statements = [raw.mogrify(sql, _bind(params, substitutions)) for _a, _c, sql, params, _n in entries]
        cursor.execute(";\n".join(statements))  # no parameters left: psycopg sends it as it is
        out = []
        for i, entry in enumerate(entries):
            if i:
                raw.nextset()
            out.append(_decode(entry, raw.fetchall()))
    return out


def _cached(key: tuple | None) -> tuple | None:
    entry = _CACHE.get(key) if key is not None else None
    if entry is not None:
        _CACHE.move_to_end(key)
    return entry


def _compiled(key: tuple | None, qs) -> tuple:
    return _entry(key, lambda: qs) if key is not None else _compile(qs)


def batches(alias: str) -> bool:
    """Whether queries on the database ``alias`` are sent together by ``rows_many``."""
    return _batchable({alias})


def _batchable(aliases: set[str]) -> bool:
    """Whether queries on ``aliases`` can share one round trip: one PostgreSQL database, client-side binding."""
    if len(aliases) != 1:
        return False
    connection = connections[next(iter(aliases))]
    # Server-side binding (an OPTIONS choice) uses the extended protocol: one statement per query.
    server_binding = connection.settings_dict["OPTIONS"].get("server_side_binding") is True
    return connection.vendor == "postgresql" and not server_binding


def _entry(key: tuple, build: Callable) -> tuple:
    """The compiled entry of ``key`` (compiling ``build()`` the first time)."""
    entry = _CACHE.get(key)
    if entry is None:
        entry = _compile(build())
        _CACHE[key] = entry
        if len(_CACHE) > _MAX_ENTRIES:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return entry


def _compile(qs) -> tuple:
    """(alias, converters, sql, params, column names) of a values() queryset."""
    compiler = qs.query.get_compiler(qs.db)
    sql, params = compiler.as_sql()
    query = qs.query  # the column names in the order Django's ValuesIterable uses
    if query.selected:
        names = list(query.selected)
    else:
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
    fields = [col[0] for col in compiler.select[0 : compiler.col_count]]
    converters = compiler.get_converters(fields)
    if connections[qs.db].vendor == "postgresql":
        # psycopg already returns ints, dates and booleans; only JSON and decimals need Django's hand.
        converters = {
            i: c
            for i, c in converters.items()
            if fields[i].output_field.get_internal_type() in ("JSONField", "DecimalField")
        }
    return (qs.db, (compiler, converters) if converters else None, sql, tuple(params), names)


def _bind(params: tuple, substitutions: dict | None) -> list:
    subs = substitutions or {}
    return [subs.get(p, p) if _hashable(p) else p for p in params]


def _decode(entry: tuple, fetched: list) -> list[dict]:
    _alias, compiler, _sql, _params, names = entry
    if compiler is not None:  # some column needs Django's converter (JSON, or any value on SQLite)
        compiler, converters = compiler
        fetched = compiler.apply_converters(fetched, converters)
    return [dict(zip(names, row, strict=True)) for row in fetched]


def _fast_timestamps(connection, cursor) -> None:
    """Read timestamptz columns with psycopg's compiled loader: Django registers a pure-Python subclass
    (to force its time zone) that costs ~5 µs a value, seconds over an audit of every project. When the
    session runs in UTC, as Django sets it with USE_TZ, both give the same aware UTC datetimes."""
    from psycopg import adapters
    from psycopg.postgres import types
    from psycopg.pq import Format

    if connection.timezone is not dt.UTC or cursor.connection.info.timezone is not dt.UTC:
        return
    oid = types["timestamptz"].oid
    cursor.cursor.adapters.register_loader(oid, adapters.get_loader(oid, Format.TEXT))


def _hashable(value) -> bool:
    return isinstance(value, int | str | dt.date | dt.datetime | float | bool) or value is None


def clear() -> None:
    _CACHE.clear()
