"""Compiled-SQL reuse for the engine's shared queries (a prepared-statement cache in spirit).

Building and compiling a grouped query with dozens of filtered aggregates costs far more in Python than
PostgreSQL spends running it. The plan of an audit is deterministic for a catalogue, a check selection,
the policy values and the day, so each query is compiled once with sentinel values for what changes
between audits (the project id) and re-executed with the real values; Django's converters still turn
the rows into Python values, so SQLite and PostgreSQL read alike.

On PostgreSQL the queries an audit knows it needs are sent together (``rows_many``): one round trip for
the whole batch instead of one per query, which is most of what a small audit waits for; for one project
they are also prepared once per database session (``assessors.prepared``), so PostgreSQL stops planning
them again for every audit.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from contextlib import nullcontext

from django.db import ProgrammingError, connections, transaction

from . import prepared

SENTINEL_PROJECT = prepared.SENTINEL_PROJECT  # never a primary key
_MAX_ENTRIES = 512
_CACHE: OrderedDict[tuple, Compiled] = OrderedDict()


class Compiled:
    """One compiled values() query: its database, SQL and parameters (sentinels included), column names,
    the converters Django would apply, and what ``prepared`` keeps about it."""

    __slots__ = ("alias", "converters", "names", "params", "sql", "statement", "template")

    def __init__(self, alias: str, converters, sql: str, params: tuple, names: list[str]):
        self.alias, self.converters, self.sql, self.params, self.names = alias, converters, sql, params, names
        self.statement = prepared.new_name()
        self.template = prepared.UNKNOWN


def rows(key: tuple | None, build: Callable, substitutions: dict | None = None) -> list[dict]:
    """The rows of ``build()`` (a values() queryset) as dicts; compiled once per ``key`` (None: never cached).
    ``substitutions`` maps sentinel parameter values used by ``build`` to the values of this call."""
    if key is None:
        return list(build())
    return rows_many([(key, build)], substitutions)[0]


def _one(key: tuple | None, entry: Compiled | None, qs, substitutions: dict | None) -> list[dict]:
    """One request on its own: cached (compiled now if needed) or, without a key, through the ORM."""
    if entry is None:
        if key is None:
            return list(qs)
        entry = _entry(key, lambda: qs)
    return _run(entry, substitutions)


def _run(entry: Compiled, substitutions: dict | None) -> list[dict]:
    """Execute one compiled entry with this call's values."""
    connection = connections[entry.alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _fast_timestamps(connection, cursor)
        cursor.execute(entry.sql, _bind(entry.params, substitutions))
        fetched = cursor.fetchall()
    return _decode(entry, fetched)


def rows_many(requests: list[tuple[tuple | None, Callable]], substitutions: dict | None = None) -> list[list[dict]]:
    """``rows`` of each (key, build) request, in order. On PostgreSQL they travel as one multi-statement
    query (simple protocol, parameters bound client-side as Django does anyway; a lone query too, so it
    is prepared like the others); elsewhere one by one."""
    # Each request as its compiled entry when cached, else as its queryset (built once).
    found = []
    for key, build in requests:
        entry = _cached(key)
        found.append((key, entry, build() if entry is None else None))
    if not found:
        return []
    if not _batchable({entry.alias if entry else qs.db for _k, entry, qs in found}):
        return [_one(key, entry, qs, substitutions) for key, entry, qs in found]
    entries = [entry or _compiled(key, qs) for key, entry, qs in found]
    reusable = [key is not None for key, _e, _q in found]  # only cached entries are worth preparing
    connection = connections[entries[0].alias]
    try:
        return _run_batch(connection, entries, reusable, substitutions)
    except ProgrammingError as exc:
        # The session lost (or already had) a statement it was thought to have: a pooler's DISCARD ALL,
        # or psycopg's DEALLOCATE ALL after any rollback once it prepared statements of its own (the
        # ledger's). The batch runs again, preparing everything under new names, unless the failure has
        # aborted the caller's transaction.
        if not prepared.lost_track(exc) or (connection.in_atomic_block and not _contained(exc)):
            raise
        return _run_batch(connection, entries, reusable, substitutions)


def _run_batch(connection, entries: list[Compiled], reusable: list[bool], substitutions: dict | None) -> list:
    """One round trip for all ``entries``; their rows, decoded, in order."""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        _fast_timestamps(connection, cursor)
        batch = prepared.Batch(raw, substitutions)
        for entry, reuse in zip(entries, reusable, strict=True):
            batch.add(entry, _bind(entry.params, substitutions), reuse)
        # Statements prepared by an earlier batch may be gone; inside the caller's transaction a savepoint
        # keeps that failure from aborting it (only then: savepoints cost two round trips).
        contain = connection.in_atomic_block and batch.relies_on_earlier
        try:
            with batch, transaction.atomic(using=connection.alias) if contain else nullcontext():
                cursor.execute(batch.sql())  # no parameters left: psycopg sends it as it is
        except ProgrammingError as exc:
            exc.icdev_contained = contain
            raise
        out, current = [], 0
        for index, entry in zip(batch.rows, entries, strict=True):
            for _ in range(index - current):  # past the results without rows (PREPARE, DEALLOCATE)
                raw.nextset()
            current = index
            out.append(_decode(entry, raw.fetchall()))
    return out


def _contained(exc: Exception) -> bool:
    """Whether a failed batch ran under its own savepoint (the caller's transaction is still usable)."""
    return getattr(exc, "icdev_contained", False)


def _cached(key: tuple | None) -> Compiled | None:
    entry = _CACHE.get(key) if key is not None else None
    if entry is not None:
        _CACHE.move_to_end(key)
    return entry


def _compiled(key: tuple | None, qs) -> Compiled:
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


def _entry(key: tuple, build: Callable) -> Compiled:
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


def _compile(qs) -> Compiled:
    """A values() queryset, compiled."""
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
    return Compiled(qs.db, (compiler, converters) if converters else None, sql, tuple(params), names)


def _bind(params: tuple, substitutions: dict | None) -> list:
    subs = substitutions or {}
    return [subs.get(p, p) if _hashable(p) else p for p in params]


def _decode(entry: Compiled, fetched: list) -> list[dict]:
    if entry.converters is not None:  # some column needs Django's converter (JSON, or any value on SQLite)
        compiler, converters = entry.converters
        fetched = compiler.apply_converters(fetched, converters)
    names = entry.names
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
