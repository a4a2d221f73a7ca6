"""Group commit for appends on their own (PostgreSQL queue mode): ``manage.py ledger_intake`` listens on
a Unix socket for the pending rows that writers would otherwise insert one statement (and one commit)
each, and stores every row that arrived together in one statement and one commit. A writer hears
back once its row is committed, so "accepted" still means durable in the pending table, and the
integrator is unchanged.

Why: with eight writers on two cores, an append's own INSERT and COMMIT cost its PostgreSQL backend
about 230 µs of CPU (parse-free, but a snapshot, a WAL flush and two context switches per append) and
the writer about 100 µs in libpq and the kernel. Sent here, the writer spends a few µs on the socket,
and one backend stores several rows per commit (benchmarks/ledger.py, README "Group commit").

Each row carries what ``alone`` would have sent: the row in ``ENTRY_COLUMNS`` order and, for a
model's record, the model id and the predicted grant patterns (the invitation guard). The batch
statement applies the same guard to each row against the grants live at that row's time, in one
snapshot, and answers each writer as ``alone``'s own statement would: stored, or not stored with the
live patterns, and the writer takes the general path as before.

Who may connect: the socket file is created mode 0600, and a peer whose user id (SO_PEERCRED) is not
the intake's own (or root) is refused. What arrives is stored as sent, as the database would store
a statement from the same account: the socket is a database credential.

Wire format (little-endian). Request: u32 body length, then the body: u8 protocol version and 20
fields, each an i32 length (-1 for NULL) and that many bytes: the model id (NULL: no guard), the
guard (jsonb text; NULL: a probe that only reads the live patterns), and the 18 row values encoded
as ``alone.row_values`` encodes them. Reply: u8 status, u32 length, that many bytes: STORED (empty),
NOT_STORED (the live patterns, jsonb text), FAILED (SQLSTATE, 5 bytes, then the message: nothing was
stored), UNKNOWN (a message: the database connection broke during the commit, so the row may or may
not be stored), REFUSED (a message: the intake is stopping or refused the peer; nothing was stored)."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import selectors
import socket
import stat
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.db import DatabaseError, IntegrityError, OperationalError

from . import wire
from .store import ENTRY_COLUMNS

logger = logging.getLogger(__name__)

PROTOCOL = 1
FIELDS = 2 + len(ENTRY_COLUMNS)
STORED, NOT_STORED, FAILED, UNKNOWN, REFUSED = range(1, 6)
MAX_BATCH = 128  # rows per statement at most (a prepared statement per size up to it)
MAX_FRAME = 16 * 1024 * 1024  # larger than any entry the build step lets through
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_REPLY = struct.Struct("<BI")
_NULL = _I32.pack(-1)


class IntakeUnavailable(Exception):
    """Nothing was sent: no intake listens on the socket. The writer stores the row itself."""


class IntakeOutcomeUnknown(OperationalError):
    """The row was sent but no answer came (the intake or its database connection went away, or the
    answer took longer than ICDEV_LEDGER_INTAKE_TIMEOUT): it may or may not be stored. As with a
    database connection lost during COMMIT, look the entry up by its id before sending it again."""


# --- wire format ------------------------------------------------------------------------------------


def encode_request(model_id: bytes | None, guard: bytes | None, row: list) -> bytes:
    """One request frame: the guard's two fields and the pending row (``alone.row_values``)."""
    parts = [bytes((PROTOCOL,))]
    append = parts.append
    for value in (model_id, guard, *row):
        if value is None:
            append(_NULL)
        else:
            append(_I32.pack(len(value)))
            append(value)
    body = b"".join(parts)
    return _U32.pack(len(body)) + body


def decode_request(body: bytes) -> list:
    """The 20 fields of a request body; ValueError for anything that is not exactly one request."""
    if not body or body[0] != PROTOCOL:
        raise ValueError(f"unsupported protocol version {body[:1].hex() or 'missing'} (this intake speaks {PROTOCOL})")
    values, at, end = [], 1, len(body)
    for _ in range(FIELDS):
        if at + 4 > end:
            raise ValueError("request ends inside a field length")
        (size,) = _I32.unpack_from(body, at)
        at += 4
        if size == -1:
            values.append(None)
            continue
        if size < 0 or at + size > end:
            raise ValueError("field length outside the request")
        values.append(body[at : at + size])
        at += size
    if at != end:
        raise ValueError(f"{end - at} bytes after the last field")
    return values


def encode_reply(status: int, data: bytes = b"") -> bytes:
    """One reply frame."""
    return _REPLY.pack(status, len(data)) + data


@register()
def intake_settings_check(app_configs=None, **kwargs):
    """ICDEV_LEDGER_INTAKE_SOCKET names a usable socket path, on a database that queues appends."""
    from django.db import connection

    path = settings.ICDEV_LEDGER_INTAKE_SOCKET
    if not path:
        return []
    problems = []
    if len(os.fsencode(path)) > 107:
        problems.append(
            Error(
                f"ICDEV_LEDGER_INTAKE_SOCKET is {len(os.fsencode(path))} bytes long; a Unix socket path holds 107.",
                id="ledger.E003",
            )
        )
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        problems.append(Warning(f"The folder of ICDEV_LEDGER_INTAKE_SOCKET ({path}) does not exist.", id="ledger.W002"))
    if connection.vendor != "postgresql" or settings.ICDEV_LEDGER_MODE == "inline":
        problems.append(
            Warning(
                "ICDEV_LEDGER_INTAKE_SOCKET is set, but appends are inline on this database: it is not used.",
                id="ledger.W001",
            )
        )
    if settings.ICDEV_LEDGER_INTAKE_TIMEOUT <= 0:
        problems.append(Error("ICDEV_LEDGER_INTAKE_TIMEOUT must be positive.", id="ledger.E004"))
    return problems


# --- the writer's side -----------------------------------------------------------------------------

_local = threading.local()  # this thread's connection: (pid, path, socket)


def store(path: str, model_id: bytes | None, guard: bytes | None, row: list, timeout: float) -> tuple[bool, bytes]:
    """Send one pending row to the intake on ``path`` and wait until it is committed: (True, b"") when
    stored; (False, live patterns) when the guard did not match the live grants (nothing stored).
    Raises IntakeUnavailable when nothing could be sent, IntakeOutcomeUnknown when the answer is
    lost, and IntegrityError or DatabaseError when the database refused the row."""
    frame = encode_request(model_id, guard, row)
    sock = _connection(path, timeout)
    try:
        sock.sendall(frame)
    except OSError:
        # The intake closed this connection before the request (a restart): it cannot have read it.
        disconnect()
        sock = _connection(path, timeout)
        try:
            sock.sendall(frame)
        except OSError as exc:
            disconnect()
            raise IntakeUnavailable(str(exc)) from exc
    try:
        status, data = _read_reply(sock)
    except (OSError, ValueError) as exc:
        disconnect()
        raise IntakeOutcomeUnknown(f"ledger intake at {path}: no answer for a sent entry ({exc}).") from exc
    if status == STORED:
        return True, b""
    if status == NOT_STORED:
        return False, data
    if status == REFUSED:
        disconnect()
        raise IntakeUnavailable(data.decode(errors="replace"))
    if status == FAILED:
        sqlstate, message = data[:5].decode(), data[5:].decode(errors="replace")
        raise (IntegrityError if sqlstate.startswith("23") else DatabaseError)(f"{message} (SQLSTATE {sqlstate})")
    disconnect()
    raise IntakeOutcomeUnknown(data.decode(errors="replace"))


def _read_reply(sock) -> tuple[int, bytes]:
    head = _recv_exactly(sock, _REPLY.size)
    status, size = _REPLY.unpack(head)
    return status, _recv_exactly(sock, size) if size else b""


def _recv_exactly(sock, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(left)
        if not chunk:
            raise ValueError("the intake closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _connection(path: str, timeout: float):
    """This thread's connection to ``path``, opened on first use (and again in a forked child)."""
    held = getattr(_local, "held", None)
    pid = os.getpid()
    if held is not None and held[0] == pid and held[1] == path:
        return held[2]
    disconnect()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        _warn_unavailable(path, exc)
        raise IntakeUnavailable(str(exc)) from exc
    _local.held = (pid, path, sock)
    return sock


def disconnect() -> None:
    """Close this thread's connection (a forked child leaves its parent's socket alone)."""
    held = getattr(_local, "held", None)
    _local.held = None
    if held is not None and held[0] == os.getpid():
        with contextlib.suppress(OSError):
            held[2].close()


_warned = [0.0]


def _warn_unavailable(path: str, exc: OSError) -> None:
    """At most one warning a minute per process: each append falls back to its own statement."""
    now = time.monotonic()
    if now - _warned[0] >= 60:
        _warned[0] = now
        logger.warning("ledger intake at %s unavailable (%s): appends commit one by one", path, exc)


# --- the intake ------------------------------------------------------------------------------------


@dataclass
class Totals:
    """What an intake has done since it started."""

    batches: int = 0
    rows: int = 0
    stored: int = 0
    refused_peers: int = 0
    bad_requests: int = 0
    largest_batch: int = 0


class _Peer:
    """A connected writer. ``busy``: a request of its is being stored (the next waits in ``backlog``,
    so answers go back in order); ``closed``: it hung up, and whoever answers last closes it (a
    socket closed while a committer still answers it could be reused by the next writer)."""

    __slots__ = ("backlog", "buffer", "busy", "closed", "sock")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = bytearray()
        self.busy = False
        self.backlog: deque = deque()
        self.closed = False


class Intake:
    """The group-committing side: ``serve`` until ``stop`` is set; ``store_batch`` is one commit."""

    def __init__(self, path: str, *, max_batch: int = 64):
        if not 1 <= max_batch <= MAX_BATCH:
            raise ValueError(f"max_batch must be 1 to {MAX_BATCH}")
        self.path = path
        self.max_batch = max_batch
        self.totals = Totals()
        self.ready = threading.Event()

    # -- the database --

    def store_batch(self, requests: list[list]) -> list[bytes]:
        """Store ``requests`` (decoded fields) and answer each. The rows that carry a guard (or need
        none) go in one statement and one commit, stored all together or not at all; probes, and
        every row of a batch that was not stored, run one by one as ``alone`` runs them, so each gets
        its own answer: stored, not stored with the live patterns, or the database's error."""
        replies: list[bytes | None] = [None] * len(requests)
        together = [i for i, r in enumerate(requests) if r[0] is None or r[1] is not None]
        alone_ = [i for i, r in enumerate(requests) if r[0] is not None and r[1] is None]
        if together:
            outcome = self._run_together([requests[i] for i in together])
            if outcome is None:
                for i in together:
                    replies[i] = encode_reply(UNKNOWN, _LOST)
            elif outcome:
                for i in together:
                    replies[i] = encode_reply(STORED)
                self.totals.stored += len(together)
            else:
                alone_ = sorted(alone_ + together)
        for i in alone_:
            replies[i] = self._run_one(requests[i])
        self.totals.batches += 1
        self.totals.rows += len(requests)
        self.totals.largest_batch = max(self.totals.largest_batch, len(requests))
        return replies

    def _run_together(self, requests: list[list]) -> bool | None:
        """One statement for ``requests``: True when all were stored, False when none was (a guard
        failed or the database refused a row), None when the connection broke during the commit."""
        groups: dict[tuple, list] = {}
        for model, guard, *row in requests:
            if model is not None:
                at = dt.datetime.fromisoformat(row[_OCCURRED].decode())
                span = groups.setdefault((row[_PROJECT], model, guard), [at, at])
                span[0], span[1] = min(span[0], at), max(span[1], at)
        values = [value for request in requests for value in request[2:]]
        for (project, model, guard), (lo, hi) in groups.items():
            lo, hi = wire.encode_time(lo), wire.encode_time(hi)
            values += [project, model, lo, lo, lo, guard, project, model, lo, hi, lo, hi, lo, hi]
        formats = ROW_FORMATS * len(requests) + [0] * (14 * len(groups))
        outcome = self._execute(batch_sql(len(requests), len(groups)), values, formats)
        if outcome is None or isinstance(outcome, tuple):
            return None if outcome is None else False
        return len(outcome) == len(requests)

    def _run_one(self, request: list) -> bytes:
        """One row in its own statement, as ``alone`` would run it (guarded when it is a model's)."""
        from . import alone

        model, guard, *row = request
        if model is None:
            outcome = self._execute(alone.insert_sql(guarded=False), row, ROW_FORMATS)
        else:
            at = row[_OCCURRED]
            values = [row[_PROJECT], model, at, at, at, *row, guard]
            outcome = self._execute(alone.insert_sql(guarded=True), values, alone.GUARDED_FORMATS)
        if outcome is None:
            return encode_reply(UNKNOWN, _LOST)
        if isinstance(outcome, tuple):
            return encode_reply(FAILED, outcome[1] + outcome[2])
        if model is None or outcome[0][0] != b"0":
            self.totals.stored += 1
            return encode_reply(STORED)
        return encode_reply(NOT_STORED, outcome[0][1])

    def _execute(self, sql: str, values: list, formats: list):
        """Rows of ``sql`` as text; ("error", sqlstate, message) when the database refused it; None
        when the connection broke (the next statement connects again)."""
        from django.db import connection
        from psycopg import Error, pq

        connection.ensure_connection()
        raw = connection.connection
        try:
            return wire.run_encoded(raw, sql, values, formats, fetch="all")
        except Error as exc:
            if raw.pgconn.status != pq.ConnStatus.OK:
                with contextlib.suppress(Exception):
                    connection.close()
                return None
            message = (exc.diag.message_primary or str(exc)).encode()
            return ("error", (exc.sqlstate or "XX000").encode(), message)

    # -- the socket --

    def serve(self, stop: threading.Event, committers: int = 1) -> Totals:
        """Accept writers and store what they send until ``stop`` is set; then store what was
        received, answer REFUSED to what arrives after that, and close. A committer thread takes the
        requests queued so far as one batch while this thread reads the next ones; with more than one
        committer (each with its own database connection), the next batch goes to another committer
        while one waits for its commit: smaller batches, so more CPU per row (on two cores with eight
        writers, one committer gave the most appends per second)."""
        listener = _listen(self.path)
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ, None)
        self._work: deque = deque()
        self._lock = threading.Condition()
        self._idle = committers
        self._stopping = self._refusing = False
        threads = [threading.Thread(target=self._commit_loop, name=f"intake-{n}") for n in range(committers)]
        for thread in threads:
            thread.start()
        peers: set[_Peer] = set()
        self.ready.set()
        try:
            while not stop.is_set():
                self._read(selector, listener, peers, 0.2)
            selector.unregister(listener)
            listener.close()
            with self._lock:
                while self._work or self._idle < committers:
                    self._lock.wait(0.05)
                self._stopping = True
                self._lock.notify_all()
            for thread in threads:
                thread.join()
            self._refusing = True  # what arrived meanwhile is not stored: say so
            self._read(selector, None, peers, 0)
        finally:
            with self._lock:
                self._stopping = True
                self._lock.notify_all()
            for peer in list(peers):
                peer.sock.close()
            selector.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        return self.totals

    def _commit_loop(self) -> None:
        """A committer: take everything queued (up to ``max_batch``), store it, answer, repeat."""
        from django.db import connection

        try:
            while True:
                with self._lock:
                    while not self._work and not self._stopping:
                        self._lock.wait()
                    if not self._work:
                        return
                    batch = [self._work.popleft() for _ in range(min(len(self._work), self.max_batch))]
                    self._idle -= 1
                try:
                    replies = self.store_batch([request for _, request in batch])
                except Exception:  # every writer in the batch must hear something
                    logger.exception("ledger intake: a batch failed")
                    replies = [encode_reply(UNKNOWN, b"the ledger intake failed while storing it")] * len(batch)
                for (peer, _), reply in zip(batch, replies, strict=True):
                    _send(peer, reply)
                with self._lock:
                    for peer, _ in batch:
                        if peer.backlog:
                            self._work.append((peer, peer.backlog.popleft()))
                        else:
                            peer.busy = False
                            if peer.closed:
                                peer.sock.close()
                    self._idle += 1
                    self._lock.notify_all()
        finally:
            connection.close()

    def _queue(self, peer: _Peer, request: list) -> None:
        if self._refusing:
            _send(peer, encode_reply(REFUSED, b"the ledger intake is stopping"))
            return
        with self._lock:
            if peer.busy:
                peer.backlog.append(request)
            else:
                peer.busy = True
                self._work.append((peer, request))
                self._lock.notify()

    def _read(self, selector, listener, peers: set, timeout: float) -> None:
        for key, _ in selector.select(timeout):
            if key.data is None:
                self._accept(listener, selector, peers)
                continue
            peer = key.data
            try:
                data = peer.sock.recv(262144)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                self._close(peer, selector, peers)
                continue
            buffer = peer.buffer
            buffer += data
            while len(buffer) >= 4:
                (size,) = _U32.unpack_from(buffer, 0)
                problem = f"request of {size} bytes is larger than {MAX_FRAME}" if size > MAX_FRAME else None
                if problem is None and len(buffer) < 4 + size:
                    break
                if problem is None:
                    try:
                        request = decode_request(bytes(buffer[4 : 4 + size]))
                    except ValueError as exc:
                        problem = str(exc)
                if problem is not None:  # the stream cannot be trusted past a bad frame: answer, hang up
                    self.totals.bad_requests += 1
                    logger.warning("ledger intake: bad request (%s); closing that connection", problem)
                    with self._lock:
                        busy = peer.busy
                    if not busy:  # else its answer is still to come, and this one would cut in
                        _send(peer, encode_reply(FAILED, b"08P01" + problem.encode()))
                    self._close(peer, selector, peers)
                    break
                del buffer[: 4 + size]
                self._queue(peer, request)

    def _accept(self, listener, selector, peers: set) -> None:
        try:
            sock, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        if not _allowed(uid):
            self.totals.refused_peers += 1
            logger.warning("ledger intake: refused a connection from user id %d", uid)
            with contextlib.suppress(OSError):
                sock.sendall(encode_reply(REFUSED, b"the ledger intake serves its own user only"))
            sock.close()
            return
        sock.setblocking(False)
        peer = _Peer(sock)
        peers.add(peer)
        selector.register(sock, selectors.EVENT_READ, peer)

    def _close(self, peer: _Peer, selector, peers: set) -> None:
        """Stop reading from ``peer``; its socket closes now or once its last answer is sent."""
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(peer.sock)
        peers.discard(peer)
        with self._lock:
            peer.closed = True
            peer.backlog.clear()  # nobody is left to answer: those requests are not stored
            if not peer.busy:
                peer.sock.close()


def _allowed(uid: int) -> bool:
    """Whether a peer running as ``uid`` may send entries: the intake's own user, or root."""
    return uid in (os.geteuid(), 0)


def _send(peer: _Peer, reply: bytes) -> None:
    """Answer a writer; one that went away meanwhile has nobody left to tell. Replies are a few
    bytes, and a writer reads its answer before sending again, so the send buffer has room."""
    try:
        complete = peer.sock.send(reply) == len(reply)
    except OSError:
        complete = False
    if not complete:  # a writer that does not read its answers: hang up (the reader sees it close)
        with contextlib.suppress(OSError):
            peer.sock.shutdown(socket.SHUT_RDWR)


def _listen(path: str) -> socket.socket:
    """The listening socket at ``path``, mode 0600. A socket file nobody answers on is left from a
    stopped intake and is replaced; one that answers belongs to a running intake."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None:
        if not stat.S_ISSOCK(mode):
            raise OSError(f"{path} exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)
        else:
            raise OSError(f"another ledger intake is listening on {path}")
        finally:
            probe.close()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old)
    listener.listen(128)
    listener.setblocking(False)
    return listener


# --- the statement ---------------------------------------------------------------------------------

ROW_FORMATS = [1 if c in ("payload", "payload_salt", "payload_hash") else 0 for c in ENTRY_COLUMNS]
_PROJECT = ENTRY_COLUMNS.index("project_key")
_OCCURRED = ENTRY_COLUMNS.index("occurred_at")
_LOST = b"the ledger intake lost its database connection during the commit"


@functools.lru_cache(maxsize=512)
def batch_sql(rows: int, groups: int) -> str:
    """The statement storing ``rows`` rows, all of them or none (``RETURNING`` one row each).

    The rows of one model with one guard form a group, and each group's guard is checked once
    (14 parameters after the rows'): the guard holds for every row of the group when it equals the
    patterns live at the group's earliest time and no grant of the model starts or ends between
    its earliest and latest time, which is what ``alone``'s one-row statement checks for each row
    at that row's own time. If any group's check fails, nothing is stored and the intake runs the
    rows one by one; so no row is stored that the one-row statement would refuse."""
    from django.db import connection

    from . import policy
    from .models import PendingEntry

    table = PendingEntry._meta.db_table
    types = [PendingEntry._meta.get_field(c).db_type(connection) for c in ENTRY_COLUMNS]
    row = "(" + ", ".join(f"CAST(%s AS {kind})" for kind in types) + ")"
    columns = ", ".join(ENTRY_COLUMNS)
    project = model = "CAST(%s AS varchar)"
    at = until = "CAST(%s AS timestamptz)"
    checks = []
    for _ in range(groups):
        live = policy.grant_patterns_sql(project, model, at)
        changes = policy.grants_change_sql(project, model, at, until)
        checks.append(f"({live} = CAST(%s AS jsonb) AND NOT {changes})")
    where = f" WHERE {' AND '.join(checks)}" if checks else ""
    # Table, column and type names come from the models; the grants' subqueries are policy's own.
    return (
        f"INSERT INTO {table} ({columns}) SELECT * FROM (VALUES {', '.join([row] * rows)}) AS input"  # noqa: S608
        f"{where} RETURNING 1"
    )
