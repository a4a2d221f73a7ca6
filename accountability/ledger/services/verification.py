"""Verification of the ledger as stored (full, or incremental from a signed checkpoint), recorded as a
VerificationRun that feeds the chain_integrity metric. Anything below 100 % is an alert: a critical
log line and an e-mail to the site admins."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core.mail import mail_admins
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from accountability.actors import actor_label
from accountability.exceptions import ValidationFailed

from .. import keys
from ..models import Checkpoint, LedgerEntry, LedgerHead, LedgerTile, ModelKey, PendingEntry, VerificationRun
from ..offline.formats import PURGE_ACTION, TILE_WIDTH
from ..offline.merkle import verify_inclusion
from ..offline.model_signatures import check_entries, key_table
from ..offline.note import NoteError, Verifier, open_checkpoint
from ..offline.verifier import LogVerifier, Report
from ..selectors._scope import require_reader
from ..tiles import StoredTree

logger = logging.getLogger("accountability.ledger")
COLUMNS = ("seq", "leaf_bytes", "entry_hash", "payload", "payload_salt")


@dataclass
class Verification:
    run: VerificationRun
    report: Report


CHUNK = 8192
TILE_CHUNKS = 8  # chunks whose level-0 tiles are read in one query
# Rows are built into Python objects this many at a time, just before they are verified. A slice this
# size stays in the core's cache from building to hashing, and since each slice is freed before the
# next is built, the garbage collector never sees enough new tuples to run (its threshold is 700).
# Slices end at multiples of SLICE, a multiple of the tile width, so that the verifier hashes whole
# tiles at once (``LogVerifier._grow``) rather than leaf by leaf.
SLICE = 256


class _Rows:
    """A chunk's rows as libpq returned them (from seq ``lo`` on); iterating builds them into (seq,
    leaf, hash, payload, salt) tuples a ``SLICE`` at a time, with psycopg's C loaders, on the thread
    that verifies them. Built in one go on the reader thread, a chunk of 8,192 rows made that thread
    hold the GIL for milliseconds at a time, and its 16,000 new tuples woke the garbage collector a
    dozen times."""

    def __init__(self, result, loader, lo: int):
        self.result, self.loader, self.lo, self.count = result, loader, lo, result.ntuples

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[list[tuple]]:
        result, loader, count = self.result, self.loader, self.count
        try:
            first, last = 0, -self.lo % SLICE or SLICE  # the first slice ends where seq is a multiple
            while first < count:
                yield loader.load_rows(first, min(last, count), tuple)
                first, last = last, last + SLICE
        finally:
            result.clear()  # the libpq result is C memory: free it now, not when collected


Chunk = tuple[_Rows | list[list[tuple]], dict[int, tuple[bytes, bytes]] | None]  # row slices, level-0 tiles


def _select_sql() -> str:
    return (
        f"SELECT {', '.join(COLUMNS)} FROM {LedgerEntry._meta.db_table} "  # noqa: S608
        "WHERE seq >= $1 AND seq < $2 ORDER BY seq"
    )


def _tiles_sql() -> str:
    return (
        f'SELECT "index", hashes, root FROM {LedgerTile._meta.db_table} '  # noqa: S608
        'WHERE level = 0 AND "index" >= $1 AND "index" < $2'
    )


def _sort_off(conn, *, session: bool) -> None:
    """Disable sorting so the planner streams the primary key index: a bitmap scan plus an external
    sort of each 15 MB chunk was five times slower while the table's statistics were stale (after a
    bulk integration). ``session`` for a connection of our own, else only until ``_sort_on``."""
    with conn.connection.cursor() as cur:
        cur.execute("SET enable_sort = off" if session or not conn.in_atomic_block else "SET LOCAL enable_sort = off")


def _sort_on(conn) -> None:
    """Let the caller's later queries plan as usual."""
    with conn.connection.cursor() as cur:
        cur.execute("RESET enable_sort")


def _query(conn, sql: str, lo: int, hi: int) -> _Rows:
    """Run ``sql`` with bounds lo and hi, its rows fetched in binary and left in libpq's result. The
    query runs through libpq's blocking call, which psycopg makes without the GIL: the reader thread
    neither waits for the GIL at every packet (each wait stalled the database too, once its socket
    buffer was full) nor keeps the verifier from it while libpq parses the rows. Turning them into
    Python objects (psycopg's C loaders, faster than any Python parsing of the wire format) is left to
    whoever iterates the result."""
    from psycopg import errors, pq  # PostgreSQL only
    from psycopg.adapt import Transformer

    raw = conn.connection
    result = raw.pgconn.exec_params(sql.encode(), [b"%d" % lo, b"%d" % hi], result_format=pq.Format.BINARY)
    if result.status != pq.ExecStatus.TUPLES_OK:
        try:
            raise errors.error_from_result(result, encoding=raw.info.encoding)
        finally:
            result.clear()
    loader = Transformer(raw)
    loader.set_pgresult(result)  # here, while the connection is open: the loaders are picked from it
    return _Rows(result, loader, lo)


def _fetch(conn, sql: str, lo: int, hi: int) -> list[tuple]:
    """``_query``'s rows, all built at once (for the tiles: a few dozen rows)."""
    return [row for rows in _query(conn, sql, lo, hi) for row in rows]


def _read_chunks(conn, start: int, end: int, *, own: bool) -> Iterator[Chunk]:
    """Rows start..end in seq order, a chunk at a time (ending at multiples of ``CHUNK``); with the first
    chunk and each that starts at a multiple of ``TILE_CHUNKS`` chunks, the level-0 tiles that end among
    the rows up to the next such multiple (the verifier checks each as it completes it). Tiles are
    written in the transaction that adds their entries, so all of them are there. They come a group
    at a time because every return from libpq makes the reader wait for the GIL (up to the
    switch interval, 5 ms) while the verifier runs. ``own``: a connection of our own, where sorting is
    already off; otherwise it is turned off for each query and back on before the caller resumes."""
    group = TILE_CHUNKS * CHUNK
    lo = start
    while lo < end:
        hi = min(lo - lo % CHUNK + CHUNK, end)  # chunks end at multiples of CHUNK, so slices do too
        tiles = None
        if lo == start or lo % group == 0:
            found = _fetch(conn, _tiles_sql(), lo // TILE_WIDTH, min(lo - lo % group + group, end) // TILE_WIDTH)
            tiles = {index: (hashes, root) for index, hashes, root in found}
        if own:
            rows = _query(conn, _select_sql(), lo, hi)
        else:
            _sort_off(conn, session=False)
            try:
                rows = _query(conn, _select_sql(), lo, hi)
            finally:
                _sort_on(conn)
        yield rows, tiles
        lo = hi


def _prefetched(start: int, end: int) -> Iterator[Chunk]:
    """Chunks read by a thread on its own connection while this one verifies the previous chunk:
    the database streams (and the driver waits, without the GIL) while Python hashes. One reader:
    a second one only competed for the same two cores in the benchmark."""
    chunks: queue.Queue = queue.Queue(maxsize=2)

    def read() -> None:
        conn = connections[DEFAULT_DB_ALIAS]  # this thread's own connection, closed at the end
        try:
            conn.ensure_connection()
            with conn.wrap_database_errors:
                _sort_off(conn, session=True)
                for chunk in _read_chunks(conn, start, end, own=True):
                    chunks.put(chunk)
            chunks.put(None)
        except BaseException as exc:
            chunks.put(exc)
        finally:
            conn.close()

    reader = threading.Thread(target=read, name="ledger-verify-reader", daemon=True)
    reader.start()
    while (item := chunks.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item
    reader.join()


def _chunks(start: int, end: int) -> Iterator[Chunk]:
    """(seq, leaf, hash, payload, salt) rows in seq order, a chunk at a time (as slices of rows), with
    level-0 tiles ahead of the verifier where they came along (PostgreSQL; else None). Each chunk is
    read completely before it is yielded, because the verifier reads other tiles on the same
    connection in between."""
    if connection.vendor == "postgresql":
        # Inside a transaction (tests) another connection would not see its rows: read in line then.
        if connection.in_atomic_block:
            connection.ensure_connection()
            with connection.wrap_database_errors:
                yield from _read_chunks(connection, start, end, own=False)
        else:
            yield from _prefetched(start, end)
        return
    for lo in range(start, end, CHUNK):
        qs = LedgerEntry.objects.filter(seq__gte=lo, seq__lt=min(lo + CHUNK, end)).order_by("seq")
        rows = [
            (seq, bytes(leaf), bytes(h), None if p is None else bytes(p), None if t is None else bytes(t))
            for seq, leaf, h, p, t in qs.values_list(*COLUMNS)
        ]
        yield [rows], None


class _Tiles:
    """Stored tiles for the verifier: level-0 tiles read ahead with the chunks, else fetched 64 at a
    time as it reaches them."""

    def __init__(self):
        self.cache: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        self.ahead: dict[int, tuple[bytes, bytes]] = {}

    def __call__(self, level: int, index: int):
        if level == 0 and index in self.ahead:
            return self.ahead[index]
        key = (level, index)  # anything else, including a tile missing from the chunk's, as before
        if key not in self.cache:
            rows = LedgerTile.objects.filter(level=level, index__gte=index, index__lt=index + 64)
            self.cache = {
                (level, r[0]): (bytes(r[1]), bytes(r[2])) for r in rows.values_list("index", "hashes", "root")
            }
        return self.cache.get(key)


def _trusted(vkeys: list[str]) -> list[Verifier]:
    try:
        extra = [Verifier.parse(v) for v in vkeys]
    except NoteError as exc:
        raise ValidationFailed({"vkey": [str(exc)]}) from exc
    return keys.trusted_verifiers() + extra


def _start_from(checkpoint_note: str, verifiers: list[Verifier]) -> tuple[int, object, bytes, list[str]]:
    """Resume from a signed checkpoint: its compact range and last entry hash, read from the stored
    tree and proved against the signed root (so nothing unproven is trusted)."""
    try:
        cp = open_checkpoint(checkpoint_note, verifiers, keys.origin())
    except NoteError as exc:
        raise ValidationFailed({"checkpoint": [f"Not a trusted checkpoint of this log: {exc}"]}) from exc
    tree = StoredTree()
    head = LedgerHead.objects.filter(pk=1).first()
    if head is None or cp.size > head.size:
        return cp.size, None, b"", [f"the checkpoint covers {cp.size} entries, more than the log holds"]
    start_range = tree.compact_range(cp.size)
    if start_range.root() != cp.root:
        return cp.size, None, b"", ["the stored tree does not match the checkpoint's root"]
    prev = b"\x00" * 32
    if cp.size:
        prev = tree.node(0, cp.size - 1)
        if not verify_inclusion(cp.size - 1, cp.size, prev, tree.inclusion_proof(cp.size - 1, cp.size), cp.root):
            return cp.size, None, b"", ["the last entry before the checkpoint is not in its tree"]
    return cp.size, start_range, prev, []


def ledger_verify(
    *,
    actor,
    incremental: bool = False,
    checkpoint_note: str | None = None,
    vkeys: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    model_signatures: bool = False,
) -> Verification:
    """Re-verify the stored ledger: every leaf hash, the prev chain, sequence numbers, payload
    commitments, purge coverage, tiles, the head and every signed checkpoint. ``checkpoint_note`` is a
    checkpoint an auditor saved elsewhere: the log must still be consistent with it. Incremental runs
    start from that checkpoint, or the newest checkpoint a previous successful run covered.
    ``model_signatures``: then, in a pass of its own over the same entries, check their model
    signatures against the ModelKey table."""
    require_reader(actor)
    verifiers = _trusted(vkeys or [])
    started = timezone.now()
    head = LedgerHead.objects.filter(pk=1).first()
    size = head.size if head else 0
    checkpoints: dict[int, list[str]] = {}
    for cp_size, note in Checkpoint.objects.values_list("tree_size", "note"):
        checkpoints.setdefault(cp_size, []).append(note)
    if checkpoint_note:
        checkpoints.setdefault(_checkpoint_size(checkpoint_note), []).append(checkpoint_note)
    start, start_range, prev, start_problems = 0, None, b"\x00" * 32, []
    if incremental:
        anchor = checkpoint_note or _last_verified_checkpoint()
        if anchor:
            start, start_range, prev, start_problems = _start_from(anchor, verifiers)
            if start_range is None:
                start, prev = 0, b"\x00" * 32  # the anchor does not hold: verify everything
    tile_fn = _Tiles()
    verifier = LogVerifier(
        origin=keys.origin(),
        verifiers=verifiers,
        checkpoints={k: v for k, v in checkpoints.items() if k >= start},
        tile_fn=tile_fn,
        start_size=start,
        start_range=start_range,
        start_prev=prev,
        pending_purges=[
            bytes(p)
            for p in PendingEntry.objects.filter(action_type=PURGE_ACTION, payload__isnull=False).values_list(
                "payload", flat=True
            )
        ],
    )
    for detail in start_problems:
        verifier.problem(max(start - 1, 0), "checkpoint_mismatch", detail)
    done = 0
    # Read past the head's size: rows beyond it (or a head that lies about it) are checked too.
    last = LedgerEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    for chunk, tiles_ahead in _chunks(start, max(size, (last or 0) + 1)):
        if tiles_ahead is not None:
            tile_fn.ahead = tiles_ahead
        for rows in chunk:
            verifier.feed_many(rows)
            done += len(rows)
        if progress is not None:
            progress(done, size - start)
    if progress is not None:
        progress(done, size - start)
    checked = _check_model_signatures(verifier, start, max(size, (last or 0) + 1)) if model_signatures else None
    report = verifier.finish(head=(size, bytes(head.root)) if head else None)
    report.model_signatures = checked
    report.fill_entry_ids(lambda seqs: dict(LedgerEntry.objects.filter(seq__in=seqs).values_list("seq", "entry_id")))
    run = _record(actor, report, incremental=incremental and start_range is not None, started=started)
    return Verification(run, report)


def _check_model_signatures(verifier: LogVerifier, start: int, end: int) -> int:
    """The model-signature pass: the payloads of integrated entries start..end, a chunk at a time,
    against every registered model key (revoked ones included: the entry's time decides)."""
    rows = ModelKey.objects.values("project__key", "model_id", "kid", "public_key", "revoked_at")
    table = key_table({"project": row.pop("project__key"), **row} for row in rows)

    def entries():
        for lo in range(start, end, CHUNK):
            qs = LedgerEntry.objects.filter(seq__gte=lo, seq__lt=min(lo + CHUNK, end), payload__isnull=False)
            for seq, payload in qs.order_by("seq").values_list("seq", "payload"):
                yield seq, bytes(payload)

    return check_entries(verifier, entries(), table)


def _checkpoint_size(note: str) -> int:
    try:
        text = note[: note.rfind("\n\n") + 1]
        return int(text.split("\n")[1])
    except (ValueError, IndexError) as exc:
        raise ValidationFailed({"checkpoint": ["Not a checkpoint note (origin, size, root, signatures)."]}) from exc


def _last_verified_checkpoint() -> str | None:
    last_ok = VerificationRun.objects.filter(ok=True).order_by("-finished_at", "-id").first()
    if last_ok is None:
        return None
    cp = Checkpoint.objects.filter(tree_size__lte=last_ok.size).order_by("-tree_size").first()
    return cp.note if cp else None


def _record(actor, report: Report, *, incremental: bool, started) -> VerificationRun:
    first = report.first_problem
    with transaction.atomic():
        run = VerificationRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            actor=actor_label(actor),
            mode=VerificationRun.Mode.INCREMENTAL if incremental else VerificationRun.Mode.FULL,
            from_size=report.start_size,
            size=report.size,
            ok=report.ok,
            checked=report.checked,
            bad_entries=report.bad_entries,
            chain_integrity=report.integrity_percent,
            first_bad_seq=first.seq if first else None,
            first_bad_entry_id=first.entry_id if first else "",
            first_bad_reason=first.reason if first else "",
            problems=[p.as_dict() for p in report.problems],
            root=report.root,
            compact_range=report.compact_range,
            last_hash=report.last_hash,
            seconds=report.seconds,
        )
        if not report.ok:
            message = f"Ledger verification FAILED ({report.integrity_percent} % valid): first bad entry {first}"
            logger.critical(message)
            transaction.on_commit(
                lambda: mail_admins(
                    "ALERT: AI accountability ledger integrity below 100 %", message, fail_silently=True
                )
            )
    return run
