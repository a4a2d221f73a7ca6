"""Writing entries: inline (SQLite, or PostgreSQL with ICDEV_LEDGER_MODE=inline) sequences each append
under the head lock inside the caller's transaction; queued (PostgreSQL) inserts into the pending
table with no lock, and one integrator sequences batches (ledger.md §5.4). Both paths share the leaf
formula, the tile builder and checkpoint signing, so the log they produce is the same."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import operator
import os
from dataclasses import dataclass, fields

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from ulid import ULID

from accountability.exceptions import Conflict

from . import keys
from .canonical import canonical_bytes
from .models import Checkpoint, LedgerEntry, LedgerHead, LedgerTile, PendingEntry, SigningKey
from .offline.formats import (
    FORMAT_VERSION,
    GENESIS_PREV,
    MAX_LEAF_SIZE,
    SALT_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    encode_links,
    format_time,
    payload_hash,
)
from .offline.merkle import EMPTY_ROOT, CompactRange, perfect_root
from .offline.note import Checkpoint as CheckpointBody
from .offline.note import sign_note
from .schema import RETENTION, EntryType

# pg_try_advisory_xact_lock key: "icdev-ledger" folded into a signed 64-bit integer.
INTEGRATOR_LOCK = int.from_bytes(hashlib.sha256(b"icdev-ledger-integrator").digest()[:8], "big", signed=True)


def new_entry_id() -> str:
    """``LED-{ulid}``: final at append time, before the entry has a seq."""
    return f"LED-{ULID()}"


def mode() -> str:
    """``queue`` or ``inline`` for the current database."""
    return _mode(_db())


def _mode(db) -> str:
    """``mode`` for a connection wrapper the caller already holds."""
    configured = settings.ICDEV_LEDGER_MODE
    if configured == "auto":
        return "queue" if db.vendor == "postgresql" else "inline"
    if configured not in ("queue", "inline"):
        raise ValueError(f"ICDEV_LEDGER_MODE must be auto, queue or inline, not {configured!r}")
    if configured == "queue" and db.vendor != "postgresql":
        raise ValueError("ICDEV_LEDGER_MODE=queue needs PostgreSQL")
    return configured


@dataclass
class Prepared:
    """An entry ready to store: its committed payload and index columns (no seq yet)."""

    entry_id: str
    entry_type: str
    project_key: str
    trace_id: str
    task_id: str
    actor_ref: str
    action_type: str
    oversight: str
    reversibility: str
    occurred_at: dt.datetime
    received_at: dt.datetime
    retention: str
    expires_at: dt.datetime | None
    payload: bytes
    payload_salt: bytes
    payload_hash: bytes
    attribution_gaps: str
    corrects_entry_id: str = ""


ENTRY_COLUMNS = [f.name for f in fields(Prepared)]


def prepare(
    document: dict,
    *,
    entry_id: str,
    entry_type: str,
    project_key: str,
    actor_ref: str,
    action_type: str,
    occurred_at: dt.datetime,
    expires_at: dt.datetime | None,
    trace_id: str = "",
    task_id: str = "",
    oversight: str = "",
    reversibility: str = "",
    gaps: list[str] | tuple[str, ...] = (),
    corrects_entry_id: str = "",
) -> Prepared:
    """Canonicalise the document (RFC 8785) and commit to it with a fresh salt."""
    payload = canonical_bytes(document)
    salt = os.urandom(SALT_SIZE)
    return Prepared(
        entry_id=entry_id,
        entry_type=entry_type,
        project_key=project_key,
        trace_id=trace_id,
        task_id=task_id[:200],
        actor_ref=actor_ref[:300],
        action_type=action_type[:100],
        oversight=oversight,
        reversibility=reversibility,
        occurred_at=occurred_at,
        received_at=timezone.now(),
        retention=RETENTION[entry_type],
        expires_at=expires_at,
        payload=payload,
        payload_salt=salt,
        payload_hash=payload_hash(salt, payload),
        attribution_gaps=" ".join(gaps),
        corrects_entry_id=corrects_entry_id,
    )


def store(prepared: Prepared, *, read: tuple[str, list] | None = None) -> tuple[int | None, list]:
    """Store in the caller's transaction; returns the seq when appended inline (None when queued) and
    the rows of ``read``, a SELECT (sql, params) the append needs too. Queued on PostgreSQL, the
    SELECT rides in the INSERT's statement (one round trip instead of two); otherwise it runs after
    the write, in the same transaction."""
    db = _db()  # one look-up for the whole inline append (each is a thread-local access)
    if _mode(db) == "queue":
        return None, _insert_pending(prepared, read)
    seq = _append_inline(prepared, db)
    return seq, (_run(db, read[0], read[1], fetch="all") if read else [])


def execute(sql: str, params=(), *, fetch: str = "") -> object:
    """Run one statement of an append's hot path on the driver's own cursor. Django's cursor wrapper
    costs about as much per statement as the statement itself on SQLite; errors are still raised as
    Django's database exceptions. ``sql`` uses %s placeholders; ``fetch`` is "", "one" or "all"."""
    return _run(_db(), sql, params, fetch)


def _db():
    """The default connection's wrapper: one lookup, where each use of the ``connection`` proxy
    repeats it (a thread-local look-up per attribute)."""
    return connections[DEFAULT_DB_ALIAS]


def _run(db, sql: str, params=(), fetch: str = "", *, binary: bool = False) -> object:
    """``execute`` on a connection wrapper the caller already holds; ``binary`` asks PostgreSQL for
    binary results."""
    if db.vendor == "sqlite":
        return _run_sqlite(db, sql, params, fetch)
    db.ensure_connection()
    with db.wrap_database_errors:
        cur = _driver_cursor(db)
        try:
            options = {**_prepare_option(db), **({"binary": True} if binary and db.vendor == "postgresql" else {})}
            cur.execute(_placeholders(sql, db.vendor), params, **options)
            if fetch == "one":
                return cur.fetchone()
            if fetch == "all":
                return cur.fetchall()
            return None
        finally:
            cur.close()


def _run_sqlite(db, sql: str, params, fetch: str) -> object:
    """``_run`` on SQLite: ``Connection.execute`` makes, runs and (once dropped) finalises the cursor
    in C, and ``ensure_connection`` (a no-op once connected) is only called when there is no
    connection yet; each step cost as much Python as the statement itself."""
    if db.connection is None:
        db.ensure_connection()
    with db.wrap_database_errors:
        cur = db.connection.execute(_placeholders(sql, "sqlite"), params)
        if fetch == "one":
            return cur.fetchone()
        if fetch == "all":
            return cur.fetchall()
        return None


def _driver_cursor(db):
    """SQLite's own cursor; on PostgreSQL a server-side binding cursor, so parameters travel apart
    from the statement (no 2 KB of quoted payload bytes for the server to parse)."""
    if db.vendor == "postgresql":
        import psycopg  # only installed where PostgreSQL is used

        return psycopg.Cursor(db.connection)
    return db.connection.cursor()


def _prepare_option(db) -> dict:
    """On PostgreSQL, prepare the hot-path statements once per connection: parsing and planning them
    on every append cost the server more than executing them. Django opens psycopg connections with
    ``prepare_threshold`` None, which disables preparing altogether, so a connection that has none
    gets one too high to ever trigger (Django's own statements stay unprepared) and ours ask for it
    explicitly. ICDEV_LEDGER_PREPARED_STATEMENTS=False turns this off for a transaction-pooling
    proxy that cannot keep prepared statements (PgBouncer before 1.21)."""
    if db.vendor != "postgresql" or not settings.ICDEV_LEDGER_PREPARED_STATEMENTS:
        return {}
    if db.connection.prepare_threshold is None:
        db.connection.prepare_threshold = NEVER_AUTO_PREPARE
    return {"prepare": True}


NEVER_AUTO_PREPARE = 2**31 - 1


@functools.lru_cache(maxsize=64)
def _placeholders(sql: str, vendor: str) -> str:
    """The driver's parameter style: SQLite's module takes ?, psycopg takes %s."""
    return sql.replace("%s", "?") if vendor == "sqlite" else sql


@functools.lru_cache(maxsize=1)
def _pending_sql() -> str:
    table = PendingEntry._meta.db_table
    return f"INSERT INTO {table} ({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join(['%s'] * len(ENTRY_COLUMNS))})"  # noqa: S608


def _insert_pending(p: Prepared, read: tuple[str, list] | None) -> list:
    """One plain INSERT, no lock: writers never wait for each other (ledger.md §5.4). A SELECT the
    append needs is folded in as ``WITH appended AS (INSERT …) SELECT …``: PostgreSQL runs a
    data-modifying WITH exactly once whether or not the query reads it."""
    values = [getattr(p, c) for c in ENTRY_COLUMNS]
    if read is None:
        execute(_pending_sql(), values)
        return []
    sql, params = read
    return execute(f"WITH appended AS ({_pending_sql()}) {sql}", [*values, *params], fetch="all")


# --- the head, leaves and tiles ----------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode()


# The leaf's RFC 8785 bytes, laid out once: its keys are fixed (LEAF_KEYS) and sort in this order,
# and every value is a string, an int, null or the links list. Strings go through the standard
# library's C string encoder, the one ``encode_leaf`` uses, so each value's bytes are the same; a
# test compares the two over generated leaves. Filling the layout costs about 4 µs where building
# the dict and encoding it cost about 11 (the sequencer runs it once per entry).
_LEAF_LAYOUT = (
    '{"actor":{"id":%s,"kind":%s},"expires_at":%s,"id":%s,"links":%s,"log":%s,"occurred_at":"%s",'
    '"oversight":%s,"payload_hash":"%s","prev":"%s","project":%s,"recorded_at":"%s","retention":%s,'
    '"reversibility":%s,"seq":%d,"type":%s,"v":%d}'
)
_string = json.encoder.encode_basestring  # what JSONEncoder(ensure_ascii=False) writes for a str


def _leaf(p, *, seq: int, prev: bytes, recorded_at: dt.datetime, links: list[dict]) -> bytes:
    kind, _, ident = p.actor_ref.partition(":")
    text = _LEAF_LAYOUT % (
        _string(ident),
        _string(kind),
        f'"{format_time(p.expires_at)}"' if p.expires_at else "null",
        _string(p.entry_id),
        encode_links(links) if links else "[]",
        _string(keys.origin()),
        format_time(p.occurred_at),
        _string(p.oversight),
        _b64(p.payload_hash),
        _b64(prev),
        _string(p.project_key),
        format_time(recorded_at),
        _string(p.retention),
        _string(p.reversibility),
        seq,
        _string(p.entry_type),
        FORMAT_VERSION,
    )
    data = text.encode()
    if len(data) > MAX_LEAF_SIZE:
        raise ValueError(f"a leaf is at most {MAX_LEAF_SIZE} bytes")
    return data


@dataclass
class _Head:
    """The head row as the append paths use it (read and written with plain SQL: it is touched by
    every inline append)."""

    size: int
    root: bytes
    compact_range: bytes
    last_hash: bytes
    last_recorded_at: dt.datetime | None
    checkpoint_size: int
    checkpoint_at: dt.datetime | None


_HEAD_COLUMNS = [f.name for f in fields(_Head)]


def _head_table() -> str:
    return LedgerHead._meta.db_table


# The head's datetime columns: on SQLite they are read as plain text, which ``_parse_db_time`` parses
# in C, instead of through the driver's converter that Django registers for "datetime" columns (a
# Python function per value, on every inline append).
_HEAD_TIMES = ("last_recorded_at", "checkpoint_at")


@functools.lru_cache(maxsize=4)
def _head_sql(lock: bool, for_update: bool, sqlite: bool = False) -> str:
    cols = [f"CAST({c} AS TEXT)" if sqlite and c in _HEAD_TIMES else c for c in _HEAD_COLUMNS]
    sql = f"SELECT {', '.join(cols)} FROM {_head_table()} WHERE id = 1"  # noqa: S608
    return sql + " FOR UPDATE" if lock and for_update else sql


def _select_head(lock: bool, db=None) -> _Head | None:
    db = db or _db()
    row = _run(db, _head_sql(lock, db.features.has_select_for_update, db.vendor == "sqlite"), fetch="one")
    if row is None:
        return None
    if db.vendor != "postgresql":  # SQLite hands back text for datetimes in raw queries
        row = list(row)
        for i in (4, 6):
            row[i] = _parse_db_time(row[i])
    return _Head(row[0], bytes(row[1]), bytes(row[2]), bytes(row[3]), *row[4:])


def _parse_db_time(value):
    """SQLite stores UTC without an offset (Django's convention); raw queries return it naive or as text."""
    if value is None:
        return None
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _load_head(*, lock: bool, db=None) -> _Head:
    """The head row, created empty on first use (INSERT … ON CONFLICT DO NOTHING, so racing first
    writers do not fail), then locked when ``lock``."""
    head = _select_head(lock, db)
    if head is None:
        LedgerHead.objects.bulk_create(
            [LedgerHead(id=1, size=0, root=EMPTY_ROOT, compact_range=b"", last_hash=GENESIS_PREV)],
            ignore_conflicts=True,
        )
        head = _select_head(lock, db)
    return head


@functools.lru_cache(maxsize=4)
def _save_head_sql(names: tuple[str, ...]) -> str:
    return f"UPDATE {_head_table()} SET {', '.join(f'{n} = %s' for n in names)} WHERE id = 1"  # noqa: S608


def _save_head(head: _Head, names: tuple[str, ...], db=None) -> None:
    _run(db or _db(), _save_head_sql(names), [getattr(head, n) for n in names])


class _Sequencer:
    """Extends the head with entries in order: assigns seq, prev and recorded_at, builds leaves, keeps
    the compact range, and writes completed tiles. Used by both append paths."""

    def __init__(self, head: _Head, db=None):
        self.head = head
        self.db = db  # the connection wrapper, when the caller already holds it
        self.start = head.size
        self.range = CompactRange.from_bytes(head.size, head.compact_range)
        self.prev = bytes(head.last_hash)
        self.last_recorded = head.last_recorded_at
        self.rows: list[tuple] = []
        self.hashes: dict[str, tuple[int, bytes]] = {}

    def next(self, p, links: list[dict]) -> tuple:
        now = timezone.now()
        # recorded_at never goes backwards, so the log's own clock is monotonic even if hosts drift.
        recorded_at = max(now, self.last_recorded) if self.last_recorded else now
        seq = self.range.size
        leaf = _leaf(p, seq=seq, prev=self.prev, recorded_at=recorded_at, links=links)
        h = hashlib.sha256(b"\x00" + leaf).digest()
        row = (seq, recorded_at, leaf, h, self.prev, links[0]["seq"] if links else None)
        self.range.append(h)
        self.prev, self.last_recorded = h, recorded_at
        self.hashes[p.entry_id] = (seq, h)
        return row

    def finish(self) -> None:
        """Write completed tiles and the new head (the caller has inserted the entries)."""
        _complete_tiles(self.start, self.range.size)
        head = self.head
        head.size = self.range.size
        head.root = self.range.root()
        head.compact_range = self.range.to_bytes()
        head.last_hash = self.prev
        head.last_recorded_at = self.last_recorded
        _save_head(head, ("size", "root", "compact_range", "last_hash", "last_recorded_at"), self.db)


def _complete_tiles(old_size: int, new_size: int) -> None:
    """Insert every tile that growing from ``old_size`` to ``new_size`` completed: level-0 tiles from
    entry hashes, level-t tiles from the roots of level-(t-1) tiles."""
    level, old_n, new_n = 0, old_size, new_size
    while new_n // TILE_WIDTH > old_n // TILE_WIDTH:
        tiles = []
        for index in range(old_n // TILE_WIDTH, new_n // TILE_WIDTH):
            lo, hi = index * TILE_WIDTH, (index + 1) * TILE_WIDTH
            if level == 0:
                rows = LedgerEntry.objects.filter(seq__gte=lo, seq__lt=hi).order_by("seq")
                hashes = [bytes(h) for h in rows.values_list("entry_hash", flat=True)]
            else:
                rows = LedgerTile.objects.filter(level=level - 1, index__gte=lo, index__lt=hi).order_by("index")
                hashes = [bytes(h) for h in rows.values_list("root", flat=True)]
            if len(hashes) != TILE_WIDTH:
                raise Conflict(f"cannot build tile {level}/{index}: {len(hashes)} of {TILE_WIDTH} hashes present")
            tiles.append(LedgerTile(level=level, index=index, hashes=b"".join(hashes), root=perfect_root(hashes)))
        LedgerTile.objects.bulk_create(tiles)
        level, old_n, new_n = level + 1, old_n // TILE_WIDTH, new_n // TILE_WIDTH
        assert level <= 64 // TILE_HEIGHT


def _links_for(corrects_entry_id: str, batch: dict[str, tuple[int, bytes]]) -> list[dict]:
    """The leaf's link to the entry a correction corrects, by seq and hash."""
    if not corrects_entry_id:
        return []
    if corrects_entry_id in batch:
        seq, h = batch[corrects_entry_id]
    else:
        row = LedgerEntry.objects.filter(entry_id=corrects_entry_id).values_list("seq", "entry_hash").first()
        if row is None:
            raise Conflict(f"{corrects_entry_id} is not integrated yet; it cannot be linked.")
        seq, h = row[0], bytes(row[1])
    return [{"rel": "corrects", "seq": seq, "hash": _b64(h)}]


def _ensure_genesis(seq: _Sequencer) -> list[tuple]:
    """Seq 0: a Governance entry that declares the log (origin, formats, keys, PII policy)."""
    if seq.range.size:
        return []
    from .build import genesis_prepared  # build imports store; the genesis needs both

    p = genesis_prepared()
    return [(p, seq.next(p, []))]


_ROW_FIELDS = ("seq", "recorded_at", "leaf_bytes", "entry_hash", "previous_hash", "corrects_seq")


def _insert_entries(items: list[tuple], db=None) -> None:
    """Insert sequenced entries built here: (prepared, (seq, recorded_at, leaf, hash, prev,
    corrects_seq)). The inline path writes one (two with the genesis); queued entries move over from
    the pending table instead (``_move_pending``)."""
    _insert_rows(items, db or _db())


@functools.lru_cache(maxsize=4)
def _column_plan_for(vendor: str) -> tuple[str, list[tuple[int, object]]]:
    return _build_column_plan()


def _build_column_plan() -> tuple[str, list[tuple[int, object]]]:
    plan = []
    for f in LedgerEntry._meta.concrete_fields:
        if f.attname in _ROW_FIELDS:
            plan.append((1, _ROW_FIELDS.index(f.attname)))
        elif f.attname in ENTRY_COLUMNS:
            plan.append((0, f.attname))
        else:  # redaction columns start empty
            plan.append((2, None if f.null else f.get_default()))
    cols = ", ".join(connection.ops.quote_name(f.column) for f in LedgerEntry._meta.concrete_fields)
    return cols, plan


@functools.lru_cache(maxsize=4)
def _insert_plan(vendor: str) -> tuple[str, operator.attrgetter, tuple, tuple[int, ...]]:
    """The inline INSERT with its columns grouped by where their values come from: the prepared
    entry's (read by one ``attrgetter``, in C), the sequencer's row (in ``_ROW_FIELDS`` order) and
    the constant defaults, so an entry's values are three tuples laid end to end instead of a
    comprehension over every column; also the positions of the datetimes to adapt. The column order
    of an INSERT changes no stored value (``test_append_statements`` compares the two layouts)."""
    fields = LedgerEntry._meta.concrete_fields
    plan = _column_plan_for(vendor)[1]
    own = [i for i, (kind, _) in enumerate(plan) if kind == 0]
    computed = sorted((i for i, (kind, _) in enumerate(plan) if kind == 1), key=lambda i: plan[i][1])
    constant = [i for i, (kind, _) in enumerate(plan) if kind == 2]
    if [plan[i][1] for i in computed] != list(range(len(_ROW_FIELDS))):
        raise AssertionError("every sequencer value has its column")
    order = own + computed + constant
    is_time = [f.get_internal_type() == "DateTimeField" for f in fields]
    if any(is_time[i] and plan[i][1] is not None for i in constant):
        raise AssertionError("a constant datetime column would need adapting")
    times = tuple(n for n, i in enumerate(order) if is_time[i] and i not in constant)
    cols = ", ".join(connection.ops.quote_name(fields[i].column) for i in order)
    sql = f"INSERT INTO {LedgerEntry._meta.db_table} ({cols}) VALUES ({', '.join(['%s'] * len(order))})"  # noqa: S608
    getter = operator.attrgetter(*(plan[i][1] for i in own))
    return sql, getter, tuple(plan[i][1] for i in constant), times


def _insert_rows(items: list[tuple], db) -> None:
    """One INSERT per (prepared, sequencer row), laid out by ``_insert_plan``."""
    sql, getter, constants, times = _insert_plan(db.vendor)
    for p, row in items:
        values = [*getter(p), *row, *constants]
        for i in times:  # datetimes go through the backend's adapter as the ORM sends them
            values[i] = _adapt_time(values[i], db)
        _run(db, sql, values)


def _adapt_time(value, db):
    """``adapt_datetimefield_value`` as the ORM applies it, with a shortcut for the common case on
    SQLite (a UTC datetime into a UTC connection: its naive text form, which is the aware form
    without its "+00:00"), which the backend's general adapter took several microseconds per
    column to reach."""
    if value is None:
        return None  # what every backend's adapter returns for None
    if value.tzinfo is dt.UTC and db.vendor == "sqlite" and db.timezone is dt.UTC:
        return str(value)[:-6]
    return db.ops.adapt_datetimefield_value(value)


# What the integrator needs of a pending row to sequence it: the leaf's fields. The payload and the
# other index columns stay on the server (``_move_pending`` copies them there).
_LEAF_SOURCE = (
    "id",
    "entry_id",
    "entry_type",
    "project_key",
    "actor_ref",
    "occurred_at",
    "retention",
    "expires_at",
    "payload_hash",
    "oversight",
    "reversibility",
    "corrects_entry_id",
)


class _Pending:
    """A pending row as fetched by the integrator (attribute access, without model instances)."""

    __slots__ = _LEAF_SOURCE

    def __init__(self, values):
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)


@functools.lru_cache(maxsize=1)
def _fetch_pending_sql() -> str:
    table = PendingEntry._meta.db_table
    return f"SELECT {', '.join(_LEAF_SOURCE)} FROM {table} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"  # noqa: S608


def _fetch_pending(limit: int) -> list[_Pending]:
    """The oldest pending rows, locked; rows another transaction has not committed are invisible and
    rows locked elsewhere are skipped, so commit order never blocks the integrator. Binary results:
    psycopg's C loaders read timestamps several times faster than its text parser. Queue mode is
    PostgreSQL's (``mode`` refuses it elsewhere), so there is no queue on SQLite."""
    if connection.vendor != "postgresql":
        return []
    return [_Pending(r) for r in _run(_db(), _fetch_pending_sql(), [limit], fetch="all", binary=True)]


@functools.lru_cache(maxsize=1)
def _move_sql() -> str:
    """One statement that deletes sequenced rows from the queue and inserts them into the log with
    the columns the integrator computed, matched by pending id; the rest (payload, salt, index
    columns) is copied on the server, so payloads never travel to the integrator and back. Columns
    are placed by the inline insert's column plan: pending (m), computed (c) or a default."""
    cols, plan = _column_plan_for(connection.vendor)
    values = []
    for f, (kind, value) in zip(LedgerEntry._meta.concrete_fields, plan, strict=True):
        if kind == 0:
            values.append(f"m.{value}")
        elif kind == 1:
            values.append(f"c.{_ROW_FIELDS[value]}")
        else:  # redaction columns start empty
            values.append("NULL" if value is None else f"CAST(%s AS {f.db_type(connection)})")
    # %b: arrays travel in binary (text arrays escape every element with a regular expression).
    arrays = ", ".join(f"CAST(%b AS {t}[])" for t in ["bigint", *_ROW_TYPES])
    names = ", ".join(["id", *_ROW_FIELDS])
    return (
        f"WITH moved AS (DELETE FROM {PendingEntry._meta.db_table} WHERE id = ANY(CAST(%b AS bigint[])) RETURNING *) "  # noqa: S608
        f"INSERT INTO {LedgerEntry._meta.db_table} ({cols}) "
        f"SELECT {', '.join(values)} FROM moved m JOIN unnest({arrays}) AS c({names}) ON c.id = m.id ORDER BY c.seq"
    )


# PostgreSQL types of _ROW_FIELDS, for the arrays ``_move_sql`` sends them in.
_ROW_TYPES = ("bigint", "timestamptz", "bytea", "bytea", "bytea", "bigint")


def _move_constants() -> list:
    """The values of ``_move_sql``'s non-null default columns, in column order."""
    return [value for kind, value in _column_plan_for(connection.vendor)[1] if kind == 2 and value is not None]


def _move_pending(items: list[tuple]) -> None:
    """Move sequenced pending rows into the log (``_move_sql``); every one must arrive."""
    ids = [p.id for p, _ in items]
    columns = list(zip(*(row for _, row in items), strict=True))
    db = _db()
    params = [ids, *_move_constants(), ids, *[list(c) for c in columns]]  # in placeholder order
    db.ensure_connection()
    with db.wrap_database_errors:
        cur = _driver_cursor(db)
        try:
            cur.execute(_move_sql(), params, **_prepare_option(db))
            moved = cur.rowcount
        finally:
            cur.close()
    if moved != len(items):  # the rows were locked FOR UPDATE: anything else is a broken invariant
        raise Conflict(f"moved {moved} of {len(items)} pending entries into the log")


# --- inline append --------------------------------------------------------------------------------


def _append_inline(p: Prepared, db=None) -> int:
    db = db or _db()
    head = _load_head(lock=True, db=db)
    sequencer = _Sequencer(head, db)
    items = _ensure_genesis(sequencer)
    row = sequencer.next(p, _links_for(p.corrects_entry_id, sequencer.hashes))
    items.append((p, row))
    _insert_entries(items, db)
    sequencer.finish()
    if _checkpoint_due(head):
        _sign_checkpoint(head)
    return row[0]


# --- integration (queue mode) ---------------------------------------------------------------------


def _try_integrator_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite holds the database write lock for the whole transaction
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [INTEGRATOR_LOCK])
        return bool(cur.fetchone()[0])


def integrate_batch(limit: int | None = None) -> int | None:
    """Sequence up to ``limit`` pending entries in one transaction and sign a checkpoint; returns how
    many were integrated, or None when another integrator holds the lock."""
    limit = limit or settings.ICDEV_LEDGER_INTEGRATE_BATCH
    with transaction.atomic():
        if not _try_integrator_lock():
            return None
        head = _load_head(lock=True)
        pending = _fetch_pending(limit)
        sequencer = _Sequencer(head)
        items = _ensure_genesis(sequencer) if pending else []
        for p in pending:
            items.append((p, sequencer.next(p, _links_for(p.corrects_entry_id, sequencer.hashes))))
        if items:
            queued = items[len(items) - len(pending) :]
            if len(items) > len(pending):  # the genesis entry, built here
                _insert_entries(items[: len(items) - len(pending)])
            _move_pending(queued)
            sequencer.finish()
        if head.size > head.checkpoint_size and _checkpoint_due(head):
            _sign_checkpoint(head)
        return len(pending)


def _checkpoint_due(head: _Head) -> bool:
    """Sign at most every ICDEV_LEDGER_CHECKPOINT_INTERVAL seconds (ledger.md §5.3: ≤ 4/s); the next
    tick, or ``sign_checkpoint_if_behind``, covers the rest."""
    if head.checkpoint_at is None:
        return True
    return (timezone.now() - head.checkpoint_at).total_seconds() >= settings.ICDEV_LEDGER_CHECKPOINT_INTERVAL


# --- checkpoints ------------------------------------------------------------------------------------


def _sign_checkpoint(head: _Head) -> Checkpoint:
    """Sign (origin, size, root) with every configured key; one checkpoint per size, ever."""
    signers = keys.signers()
    body = CheckpointBody(keys.origin(), head.size, bytes(head.root))
    note = sign_note(body.text, list(signers))
    now = timezone.now()
    primary = signers[0].verifier
    checkpoint = Checkpoint.objects.create(
        tree_size=head.size,
        root=bytes(head.root),
        note=note,
        key_id=primary.id.hex(),
        created_at=now,
        compact_range=bytes(head.compact_range),
    )
    for signer in signers:
        v = signer.verifier
        updated = SigningKey.objects.filter(vkey=v.vkey).update(last_used_at=now)
        if not updated:
            SigningKey.objects.create(name=v.name, key_id=v.id.hex(), vkey=v.vkey, first_used_at=now, last_used_at=now)
    head.checkpoint_size, head.checkpoint_at = head.size, now
    _save_head(head, ("checkpoint_size", "checkpoint_at"))
    return checkpoint


def sign_checkpoint_if_behind() -> Checkpoint | None:
    """Make sure the latest checkpoint covers the whole integrated log (inline appends sign at most
    every ICDEV_LEDGER_CHECKPOINT_INTERVAL seconds, so the tail may be unsigned for a moment)."""
    with transaction.atomic():
        head = _select_head(lock=True)
        if head is not None and head.size > head.checkpoint_size:
            return _sign_checkpoint(head)
    return None


__all__ = [
    "INTEGRATOR_LOCK",
    "EntryType",
    "Prepared",
    "integrate_batch",
    "mode",
    "new_entry_id",
    "prepare",
    "sign_checkpoint_if_behind",
    "store",
]
