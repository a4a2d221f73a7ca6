"""Server-side prepared statements for the batched queries of a one-project audit (PostgreSQL).

PostgreSQL spends about as long planning the ~35 statements of a one-project audit as running them. Their
SQL is the same for every project but for the project id, so each is prepared once per database session
(``PREPARE name(bigint) AS …`` with the id as ``$1``) and afterwards only executed (``EXECUTE name(id)``),
inside the batch's single round trip. What a session has prepared is tracked per connection; after an
error that is unknown, so the connection starts over under new names (statements survive a rollback).
"""

from __future__ import annotations

import itertools
import os
import re
import weakref

from django.conf import settings

SENTINEL_PROJECT = -987_654_321  # never a primary key: stands for the project id in compiled SQL
UNKNOWN = object()  # a compiled query whose template has not been worked out yet
_LITERAL = re.compile(rf"(?<= ){SENTINEL_PROJECT}(?!\d)")  # the sentinel as psycopg writes it into SQL
_MAX_PER_SESSION = 1024  # then the session's statements are deallocated (old plans, other days)
_DEALLOCATE_OURS = (
    "DO $$DECLARE n text; BEGIN FOR n IN SELECT name FROM pg_prepared_statements WHERE name LIKE 'icdev\\_q%' "
    "LOOP EXECUTE format('DEALLOCATE %I', n); END LOOP; END$$"
)
_numbers = itertools.count(1)
_sessions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def new_name() -> str:
    """A statement name for a newly compiled query (never reused by this process, nor by another)."""
    return f"icdev_q{os.getpid()}_{next(_numbers)}"


def lost_track(exc: Exception) -> bool:
    """Whether a database error says a session did not have, or already had, a statement we named."""
    return getattr(exc.__cause__, "sqlstate", None) in ("26000", "42P05")  # invalid / duplicate statement name


class _Session:
    """The statements one database session has prepared; names carry a generation so a restart never
    collides with what an interrupted batch may have left behind."""

    def __init__(self, generation: int = 0):
        self.generation = generation
        self.names: set[str] = set()


class Batch:
    """The statements of one round trip: plain SQL, or PREPARE / EXECUTE of cached queries for one project."""

    def __init__(self, cursor, substitutions: dict | None):
        self.cursor = cursor
        subs = substitutions or {}
        value = subs.get(SENTINEL_PROJECT)
        # Off behind a pooler that hands each transaction another server session (PgBouncer in
        # transaction mode): a statement prepared on one session is unknown on the next.
        enabled = getattr(settings, "ICDEV_AUDIT_PREPARED_STATEMENTS", True)
        one_project = enabled and len(subs) == 1 and type(value) is int
        self.project = value if one_project else None
        self.session = _session(cursor.connection) if one_project else None
        self.parts: list[str] = []
        self.rows: list[int] = []  # indexes of the results that carry rows (PREPARE returns none)
        self.new: set[str] = set()
        self.relies_on_earlier = False  # executes a statement an earlier batch prepared
        if self.session is not None and len(self.session.names) > _MAX_PER_SESSION:
            # Whichever of ours the session still has: psycopg may already have dropped them all (its
            # DEALLOCATE ALL after a rollback), and DEALLOCATE of a missing name would fail the batch.
            self.parts.append(_DEALLOCATE_OURS)
            self.session.names = set()

    def add(self, entry, params: list, reusable: bool) -> None:
        """Add a compiled query with its bound parameters (``reusable``: cached, so worth preparing)."""
        template = _template(entry, self.cursor) if reusable and self.session is not None else None
        if template is None:
            self._rows(self.cursor.mogrify(entry.sql, params))
            return
        name = f"{entry.statement}_{self.session.generation}"
        if name in self.session.names:
            self.relies_on_earlier = True
        elif name not in self.new:
            self.parts.append(f"PREPARE {name}(bigint) AS {template}")
            self.new.add(name)
        self._rows(f"EXECUTE {name}({self.project:d})")

    def _rows(self, sql: str) -> None:
        self.rows.append(len(self.parts))
        self.parts.append(sql)

    def sql(self) -> str:
        return ";\n".join(self.parts)

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.session is None:
            return
        if exc_type is None:
            self.session.names |= self.new
        else:  # which statements got prepared is unknown: start over under new names
            _sessions[self.cursor.connection] = _Session(self.session.generation + 1)


def _session(connection) -> _Session:
    session = _sessions.get(connection)
    if session is None:
        session = _sessions[connection] = _Session()
    return session


def _template(entry, cursor) -> str | None:
    """The query's SQL with its values written in and the project sentinel as ``$1`` (None: it has no
    sentinel, or the sentinel could not be told apart from the rest of the text)."""
    if entry.template is UNKNOWN:
        text = cursor.mogrify(entry.sql, list(entry.params))
        expected = sum(1 for p in entry.params if type(p) is int and p == SENTINEL_PROJECT)
        found = len(_LITERAL.findall(text))
        entry.template = _LITERAL.sub("$1", text) if expected and found == expected else None
    return entry.template
