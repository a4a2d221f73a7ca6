"""Appends that are a transaction of their own (PostgreSQL queue mode, no transaction open): one
statement in autocommit instead of BEGIN, INSERT and COMMIT, when the policy checks are known to pass.

A model's append is policy checked against its scope grants. The grants seen last for (project,
model) predict the invitation check; the INSERT carries that prediction as a guard, and PostgreSQL
stores the entry only if the grants live at the entry's time are exactly the predicted ones (one
statement, one snapshot). If they are not, nothing is written, the prediction is refreshed from the
same statement, and the entry takes the general path, which records any violation in the same
transaction as the entry. So the outcome is the general path's outcome, in one round trip instead
of three."""

from __future__ import annotations

import functools
import json

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from . import intake, policy, wire
from .models import PendingEntry
from .schema import AI_TYPES, EntryType
from .store import ENTRY_COLUMNS, Prepared

_MAX_PREDICTIONS = 1024
# (project key, model id) -> the grants' action-type patterns as PostgreSQL aggregated them (jsonb
# text, compared by PostgreSQL itself), as lists for the Python check, and as the guard's bytes.
_predictions: dict[tuple[str, str], tuple[str, list, bytes]] = {}


def possible(built) -> bool:
    """Whether ``built`` may be stored on its own: queue mode with no transaction open, no references
    to check, and (for AI records) a consent check that passes. Violations and corrections check
    their evidence first, so they always take the general path."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or db.in_atomic_block:
        return False
    # ``get_autocommit`` connects first; once connected, the attribute is the same answer for less.
    if not (db.autocommit if db.connection is not None else db.get_autocommit()):
        return False
    if settings.ICDEV_LEDGER_MODE not in ("auto", "queue"):  # ``mode`` is queue for auto on PostgreSQL
        return False
    if built.entry_type in (EntryType.VIOLATION, EntryType.CORRECTION) or built.signed:
        return False  # evidence to check first, or a signed record to check for replays
    if built.entry_type in AI_TYPES:
        return not built.references and not policy.check_consent(built)
    return True


def append(built, prepared: Prepared) -> bool:
    """Store ``prepared`` in one autocommitted statement; False when the general path must take it:
    the live grants do not cover the action (its violation belongs in the entry's transaction), or
    they changed under two attempts in a row."""
    db = connections[DEFAULT_DB_ALIAS]
    row = row_values(prepared)
    query = policy.grant_query(built, prepared.occurred_at) if built.entry_type in AI_TYPES else None
    if query is None:
        _write(db, row, None, None)
        return True
    key = (built.project_key, built.actor["id"])
    predicted = _predictions.get(key)
    for _ in range(2):
        # Only a prediction that passes the invitation check may store; otherwise the statement is a
        # probe (NULL never equals the live patterns) that refreshes the prediction, so one that a new
        # grant made stale costs one round trip, not every later append.
        covers = predicted is not None and not policy.check_invitation(built, prepared.occurred_at, _rows(predicted[1]))
        guard = predicted[2] if covers else None
        stored, live = _write(db, row, query[1], guard)
        if stored:
            return True
        text = live.decode()
        predicted = (text, json.loads(text), live)
        if len(_predictions) >= _MAX_PREDICTIONS:
            _predictions.clear()
        _predictions[key] = predicted
        if policy.check_invitation(built, prepared.occurred_at, _rows(predicted[1])):
            return False
    return False


# The pending row's columns (``ENTRY_COLUMNS``) that travel in binary: the payload, its salt and hash.
ROW_FORMATS = [1 if c in ("payload", "payload_salt", "payload_hash") else 0 for c in ENTRY_COLUMNS]
GUARDED_FORMATS = [0] * 5 + ROW_FORMATS + [0]  # policy.grant_query's five parameters, the row, the guard


def row_values(p: Prepared) -> list:
    """The pending row's values in ``ENTRY_COLUMNS`` order, encoded for libpq as ``wire.encode``
    would encode each (a test holds the two equal): spelt out, because the general encoder's type
    dispatch for 18 values cost more than the rest of the statement's client side."""
    time = wire.encode_time
    return [
        str.encode(p.entry_id),
        str.encode(p.entry_type),
        str.encode(p.project_key),
        str.encode(p.trace_id),
        str.encode(p.task_id),
        str.encode(p.actor_ref),
        str.encode(p.action_type),
        str.encode(p.oversight),
        str.encode(p.reversibility),
        time(p.occurred_at),
        time(p.received_at),
        str.encode(p.retention),
        None if p.expires_at is None else time(p.expires_at),
        bytes(p.payload),
        bytes(p.payload_salt),
        bytes(p.payload_hash),
        str.encode(p.attribution_gaps),
        str.encode(p.corrects_entry_id),
    ]


def _write(db, row: list, grants: list | None, guard: bytes | None) -> tuple[bool, bytes]:
    """Store ``row``, guarded by the invitation check when ``grants`` (``policy.grant_query``'s
    parameters) are given: (stored, the live patterns). Through the group-committing intake when one
    is configured and listening (``intake``), else in this connection's own statement."""
    path = settings.ICDEV_LEDGER_INTAKE_SOCKET
    if path:
        try:
            model = None if grants is None else str.encode(grants[1])
            return intake.store(path, model, guard, row, settings.ICDEV_LEDGER_INTAKE_TIMEOUT)
        except intake.IntakeUnavailable:
            pass
    if grants is None:
        _send(db, insert_sql(guarded=False), row, ROW_FORMATS)
        return True, b""
    values = [*(wire.encode(v) for v in grants), *row, guard]
    stored, live = _send(db, insert_sql(guarded=True), values, GUARDED_FORMATS, "one")
    return stored != b"0", live


def _send(db, sql: str, values: list, formats: list, fetch: str = ""):
    """One statement in autocommit, straight through libpq (``wire``), its values already encoded;
    values come back as text."""
    if db.connection is None:
        db.ensure_connection()
    with db.wrap_database_errors:
        return wire.run_encoded(db.connection, sql, values, formats, fetch=fetch)


def _rows(patterns: list) -> list[tuple]:
    """Aggregated patterns in the row shape of ``policy.grant_query``."""
    return [(p,) for p in patterns]


def forget_predictions() -> None:
    """Drop every predicted grant set (tests; the guard makes stale ones harmless)."""
    _predictions.clear()


@functools.lru_cache(maxsize=8)
def insert_sql(*, guarded: bool) -> str:
    """The pending INSERT; guarded, it stores the row only when the live grants aggregate to the
    predicted patterns, and returns (rows stored, the live patterns as jsonb text)."""
    from django.db import connection

    table = PendingEntry._meta.db_table
    columns = ", ".join(ENTRY_COLUMNS)
    if not guarded:
        return f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(ENTRY_COLUMNS))})"  # noqa: S608
    # INSERT … SELECT types its expressions from the parameters, not the columns: cast each one.
    casts = ", ".join(f"CAST(%s AS {PendingEntry._meta.get_field(c).db_type(connection)})" for c in ENTRY_COLUMNS)
    # Table, column and type names come from the models; the grants' subquery is policy's own.
    return (
        f"WITH live AS (SELECT {policy.grant_patterns_sql('%s', '%s', '%s')} AS patterns), "  # noqa: S608
        f"stored AS (INSERT INTO {table} ({columns}) SELECT {casts} FROM live "
        "WHERE live.patterns = CAST(%s AS jsonb) RETURNING 1) "
        "SELECT (SELECT count(*) FROM stored), patterns::text FROM live"
    )
