"""Compiled-SQL reuse for the engine's shared queries (a prepared-statement cache in spirit).

Building and compiling a grouped query with dozens of filtered aggregates costs far more in Python than
PostgreSQL spends running it. The plan of an audit is deterministic for a catalogue, a check selection,
the policy values and the day, so each query is compiled once with sentinel values for what changes
between audits (the project id) and re-executed with the real values; Django's converters still turn
the rows into Python values, so SQLite and PostgreSQL read alike.
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
    entry = _CACHE.get(key)
    if entry is None:
        qs = build()
        compiler = qs.query.get_compiler(qs.db)
        sql, params = compiler.as_sql()
        query = qs.query  # the column names in the order Django's ValuesIterable uses
        names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        fields = [col[0] for col in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(fields)
        if connections[qs.db].vendor == "postgresql":
            # psycopg already returns ints, dates and booleans; only JSON and decimals need Django's hand.
            converters = {
                i: c
                for i, c in converters.items()
                if fields[i].output_field.get_internal_type() in ("JSONField", "DecimalField")
            }
        entry = (qs.db, (compiler, converters) if converters else None, sql, tuple(params), names)
        _CACHE[key] = entry
        if len(_CACHE) > _MAX_ENTRIES:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    alias, compiler, sql, params, names = entry
    subs = substitutions or {}
    bound = [subs.get(p, p) if _hashable(p) else p for p in params]
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _fast_timestamps(connection, cursor)
        cursor.execute(sql, bound)
        fetched = cursor.fetchall()
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
