"""Re-verify a ledger from its raw data: leaf hashes, the ``prev`` chain, sequence numbers, payload
commitments, retention purges, hash tiles, and every signed checkpoint against the recomputed tree.

The same ``LogVerifier`` checks the portal's database (``manage.py ledger_verify``) and an offline
export (``python -m accountability.ledger.offline verify``). It never re-serialises anything: it hashes
the stored bytes, and looks up only the fields it must bind (``seq``, ``prev``, ``payload_hash``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import heapq
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter, itemgetter

from .formats import GENESIS_PREV, PAYLOAD_DOMAIN, PURGE_ACTION, TILE_HEIGHT, TILE_WIDTH, parse_time
from .merkle import CompactRange, node_hash, perfect_root
from .note import Checkpoint, NoteError, Verifier, open_checkpoint

_sha256 = hashlib.sha256
_b64 = binascii.b2a_base64
_PURGE = PURGE_ACTION.encode()
# The payload hash and prev fields of a leaf, from two base64 encodings that end in a newline (``%.44s``
# keeps the 44 characters before it), and the seq field, a row to a line (see ``feed_many``).
_FIELDS = b'"payload_hash":"%.44s","prev":"%.44s"'
_SEQ_FIELD = b'"seq":%d,"type":"\n'
_first = itemgetter(0)
_seq_of = attrgetter("seq")
_ID_RE = re.compile(rb'"id":"(LED-[0-9A-Z]{26})"')

# Reasons a verification names, in the order a reader would investigate them.
REASONS = {
    "missing_entry": "no entry is stored at this sequence number (deleted?)",
    "leaf_hash_mismatch": "the stored entry hash is not the hash of the stored leaf bytes",
    "seq_mismatch": "the leaf records a different sequence number (rows moved or swapped?)",
    "chain_break": "the leaf's prev is not the hash of the entry before it",
    "origin_mismatch": "the leaf names another log",
    "payload_hash_mismatch": "the payload (or its salt) does not match the payload hash in the leaf",
    "payload_missing": "the payload is gone but the entry was not expired and purged by a purge record",
    "tile_mismatch": "a stored hash tile disagrees with the recomputed tree",
    "tile_missing": "a full hash tile is missing",
    "checkpoint_mismatch": "a signed checkpoint's root differs from the recomputed tree (rewritten or rolled back)",
    "checkpoint_beyond_log": "a signed checkpoint covers entries the log no longer has (truncated or rolled back)",
    "checkpoint_invalid": "a checkpoint is malformed or not signed by a trusted key",
    "head_mismatch": "the stored tree head differs from the recomputed tree",
    "unreadable": "the stored data cannot be read",
    # Only with --model-signatures (offline/model_signatures.py):
    "model_key_unknown": "a model signature names a key not registered in the entry's project",
    "model_key_mismatch": "a model signature's key is registered to another model than the entry's actor",
    "model_key_revoked": "a model signature's key was revoked at or before the entry's time",
    "model_signature_invalid": "a model signature does not verify",
}


@dataclass(frozen=True)
class Problem:
    seq: int
    reason: str
    detail: str = ""
    entry_id: str = ""

    def as_dict(self) -> dict:
        return {"seq": self.seq, "entry_id": self.entry_id, "reason": self.reason, "detail": self.detail}

    def __str__(self) -> str:
        who = f"seq {self.seq}" + (f" ({self.entry_id})" if self.entry_id else "")
        return f"{who}: {self.reason}: {self.detail or REASONS.get(self.reason, '')}"


@dataclass
class Report:
    """The outcome of one verification run."""

    ok: bool
    origin: str
    start_size: int
    size: int
    root: bytes
    checked: int
    bad_entries: int
    problems: list[Problem]
    checkpoints_verified: int
    tiles_verified: int
    purged: int
    withheld: int
    seconds: float
    compact_range: bytes = b""
    last_hash: bytes = b""
    problem_count: int = 0
    model_signatures: int | None = None  # signatures checked, when model signatures were asked for

    def fill_entry_ids(self, lookup: Callable[[list[int]], dict[int, str]]) -> None:
        """Name the entries of problems found without their leaf at hand (tiles, checkpoints, gaps)."""
        missing = sorted({p.seq for p in self.problems if not p.entry_id})
        if not missing:
            return
        ids = lookup(missing)
        self.problems = [
            p if p.entry_id else Problem(p.seq, p.reason, p.detail, ids.get(p.seq, "")) for p in self.problems
        ]

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    @property
    def integrity_percent(self) -> float:
        """The seed's chain_integrity: the share of checked entries with no problem."""
        if self.checked == 0:
            return 100.0 if self.ok else 0.0
        return round(100.0 * (self.checked - self.bad_entries) / self.checked, 4)

    @property
    def entries_per_second(self) -> float:
        return self.checked / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        first = self.first_problem
        return {
            "ok": self.ok,
            "origin": self.origin,
            "from_size": self.start_size,
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "checked": self.checked,
            "bad_entries": self.bad_entries,
            "chain_integrity": self.integrity_percent,
            "first_bad_entry": first.as_dict() if first else None,
            "problems": [p.as_dict() for p in self.problems],
            "problem_count": self.problem_count,
            "checkpoints_verified": self.checkpoints_verified,
            "tiles_verified": self.tiles_verified,
            "purged_payloads": self.purged,
            "withheld_payloads": self.withheld,
            "seconds": round(self.seconds, 3),
            "entries_per_second": round(self.entries_per_second),
            **({} if self.model_signatures is None else {"model_signatures_checked": self.model_signatures}),
        }


TileFn = Callable[[int, int], tuple[bytes, bytes | None] | None]  # (level, index) -> (hashes, root?)


@dataclass
class _Purged:
    seq: int
    entry_id: str
    expires_at: dt.datetime | None


class LogVerifier:
    """Feed entries in sequence order, then call ``finish``.

    ``checkpoints`` maps tree sizes to signed notes (from the database, an export, or an auditor's own
    saved copy); every one is checked against the recomputed root when the tree reaches its size.
    Start at ``start_size`` with a compact range and the previous entry hash that were themselves
    proved against a trusted root, for incremental verification.
    """

    MAX_PROBLEMS = 100

    def __init__(
        self,
        *,
        origin: str,
        verifiers: list[Verifier],
        checkpoints: dict[int, list[str]] | None = None,
        tile_fn: TileFn | None = None,
        start_size: int = 0,
        start_range: CompactRange | None = None,
        start_prev: bytes = GENESIS_PREV,
        withheld: Callable[[int], bool] | None = None,
        pending_purges: list[bytes] = (),
    ):
        self.origin = origin
        self.verifiers = verifiers
        self.checkpoints = {int(k): list(v) for k, v in (checkpoints or {}).items()}
        self.tile_fn = tile_fn
        self.withheld_fn = withheld
        self.start_size = start_size
        self.size = start_size
        self.prev = start_prev
        self.range = start_range.copy() if start_range is not None else CompactRange()
        if self.range.size != start_size:
            raise ValueError("the starting compact range does not match the starting size")
        self.range.on_complete = self._node_completed
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.bad: set[int] = set()
        self.checked = 0
        self.checkpoints_verified = 0
        self.tiles_verified = 0
        self.purged_candidates: list[_Purged] = []
        self.purge_cover: list[tuple[int, dt.datetime, list[tuple[int, int]]]] = []
        self.withheld = 0
        self._prev_leaf = b""
        # Tiles are checked as the tree completes them; each level keeps the hashes of its open tile.
        self._tile_buf: list[list[bytes]] = [[] for _ in range(8)]
        self._tile_root = b""
        self._tile_start = [start_size >> (TILE_HEIGHT * t) & ~(TILE_WIDTH - 1) for t in range(8)]
        self._tiles_usable = start_size == 0
        self._tree_valid = True
        self._pending_break: tuple[int, bytes] | None = None
        self._log_field = b'"log":' + json.dumps(origin).encode() + b","
        self._started = time.perf_counter()
        self._check_checkpoints_at(start_size)
        for payload in pending_purges:  # purge records accepted but not yet sequenced (PostgreSQL)
            self._note_purge_record(2**63, payload)

    # --- problems ---------------------------------------------------------------------------------
    def problem(self, seq: int, reason: str, detail: str = "", entry_id: str = "", leaf: bytes | None = None) -> None:
        self.problem_count += 1
        self.bad.add(seq)
        if len(self.problems) < self.MAX_PROBLEMS:
            if not entry_id and leaf is not None:
                found = _ID_RE.search(leaf)
                entry_id = found.group(1).decode() if found else ""
            self.problems.append(Problem(seq, reason, detail, entry_id))

    # --- feeding ----------------------------------------------------------------------------------
    def feed(
        self,
        seq: int,
        leaf: bytes,
        payload: bytes | None = None,
        salt: bytes | None = None,
        stored_hash: bytes | None = None,
    ) -> None:
        """Check one entry (leaf bytes as stored; payload and salt when present). This runs once per
        entry of the log, so it does byte searches rather than parsing JSON."""
        if seq != self.size:
            if seq < self.size:
                self.problem(seq, "seq_mismatch", f"seq {seq} appears again after seq {self.size - 1}", leaf=leaf)
                return
            for missing in range(self.size, min(seq, self.size + self.MAX_PROBLEMS)):
                self.problem(missing, "missing_entry", f"the next stored entry is seq {seq}")
            self._resync(seq)
        self.checked += 1
        h = _sha256(b"\x00" + leaf).digest()
        if stored_hash is not None and stored_hash != h:
            self.problem(seq, "leaf_hash_mismatch", leaf=leaf)
        # The leaf is canonical JSON with sorted keys, and a JSON string can never contain the bytes
        # '"key":' (its quotes would be escaped), so these byte patterns match only the top-level fields
        # (a link's seq is followed by '}', the leaf's by its "type" key).
        if (b'"seq":%d,"type":"' % seq) not in leaf:
            self.problem(seq, "seq_mismatch", "the leaf records another sequence number", leaf=leaf)
        prev = self.prev
        if prev is not None:
            self._chain_link(seq, (b'"prev":"' + _b64(prev, newline=False) + b'"') in leaf, leaf)
        if self._log_field not in leaf:
            self.problem(seq, "origin_mismatch", f"the leaf is not from {self.origin}", leaf=leaf)
        if payload is not None:  # bytes or a memoryview of them
            ph = _sha256(PAYLOAD_DOMAIN)
            ph.update(salt or b"")
            ph.update(payload)
            if salt is None or (b'"payload_hash":"' + _b64(ph.digest(), newline=False) + b'"') not in leaf:
                self.problem(seq, "payload_hash_mismatch", leaf=leaf)
            elif b'"type":"governance"' in leaf and _PURGE in bytes(payload):
                self._note_purge_record(seq, bytes(payload))
        elif self.withheld_fn is not None and self.withheld_fn(seq):
            self.withheld += 1
        else:
            self._note_missing_payload(seq, leaf)
        self.prev = h
        self._prev_leaf = leaf
        self.size += 1
        if self._tree_valid:
            self.range.append(h)
            if self._tiles_usable:
                buf = self._tile_buf[0]
                buf.append(h)
                if len(buf) == TILE_WIDTH:
                    self._tile_full(0)
        if self.size in self.checkpoints:
            self._check_checkpoints_at(self.size)

    def feed_many(self, rows) -> None:
        """``feed`` for a list of (seq, leaf, stored_hash, payload, salt) rows in order (seq an int, leaf
        bytes). An entry that passes every check is accounted for here with the checks of ``feed``
        inlined on local variables, and its hash joins a run that ``_grow`` adds to the tree a tile at a
        time; anything else (a gap, a bad hash, a missing payload, a purge record, a pending chain
        break) goes through ``feed`` itself, with the state written back first, so the outcome and the
        problems reported are exactly those of ``feed``."""
        if not rows:
            return
        # Pre-seeded hash objects are copied rather than created: in OpenSSL 3 setting up a digest
        # costs about as much as hashing a 500-byte leaf.
        leaf_seed, payload_seed, b64 = _sha256(b"\x00"), _sha256(PAYLOAD_DOMAIN), _b64
        checkpoints, log_field, purge, fields_of = self.checkpoints, self._log_field, _PURGE, _FIELDS
        size, prev, prev_leaf = self.size, self.prev, self._prev_leaf
        counted = size  # entries up to here are in self.checked
        fast = prev is not None and self._pending_break is None and self._tree_valid
        prev64 = b64(prev) if fast else b""  # base64 with its newline, which _FIELDS cuts off
        run: list[bytes] = []  # hashes of checked entries not yet in the tree
        gap = 0  # how far "payload_hash" was before "seq" in the last leaf where it had to be found
        log_gap = 0  # how far "log" was before "payload_hash" in the last leaf that needed a search
        log_len = len(log_field)
        # Every row's '"seq":N,"type":"' in three C calls rather than a formatting per row (the split
        # leaves an empty last item, which zip does not reach).
        seq_fields = (_SEQ_FIELD * len(rows) % tuple(map(_first, rows))).split(b"\n")
        for (seq, leaf, stored, payload, salt), seq_field in zip(rows, seq_fields, strict=False):
            if fast and seq == size and payload is not None and salt is not None:
                hasher = leaf_seed.copy()
                hasher.update(leaf)
                h = hasher.digest()
                hasher = payload_seed.copy()
                hasher.update(salt)
                hasher.update(payload)
                h64 = b64(h)
                # From the end: the field sits near it (only "type" and "v" sort after it), and it can
                # occur only once (a link's seq is followed by '}'), so this finds what find() finds.
                at = leaf.rfind(seq_field)
                # Sorted keys put "prev" right after "payload_hash", so one comparison checks both (a
                # leaf laid out otherwise fails here and ``feed`` checks each field on its own).
                fields = fields_of % (b64(hasher.digest()), prev64)
                try:
                    kind = leaf[at + len(seq_field)]  # the first byte of the leaf's own type
                except IndexError:  # the leaf ends there: not a v1 leaf, and ``feed`` says so
                    kind = -1
                # Where the fields are: as far before "seq" as in the last leaf (``gap``: only the
                # project, retention and reversibility between them vary), else 59 bytes before the
                # leaf's first "=" (the end of the payload hash's base64, as the fields sorted before
                # it usually hold none), else anywhere. "log" sorts before them, usually as far
                # before as in the previous leaf (``log_gap``), else it is searched for up to there.
                # Slices are compared rather than startswith() called: Python 3.11 parses the
                # arguments of bytes.startswith and bytes.find as a tuple, at about a third of their
                # cost. Each test can only succeed where the bytes are there, and a leaf laid out
                # otherwise gets the full search.
                if (
                    at >= 0
                    and (stored is None or stored == h)
                    and (
                        leaf[(ends := at - gap) : ends + 115] == fields
                        or (leaf[(ends := leaf.find(b"=") - 59) : ends + 115] == fields and (gap := at - ends))
                        or fields in leaf
                    )
                    and (
                        leaf[ends - log_gap : ends - log_gap + log_len] == log_field
                        or (log_gap := ends - leaf.rfind(log_field, 0, ends)) <= ends
                        or log_field in leaf
                    )
                    # purge records take the full path ("governance" is the only type starting with g)
                    and kind >= 0
                    and (kind != 103 or purge not in bytes(payload))
                ):
                    prev, prev64, prev_leaf = h, h64, leaf
                    size += 1
                    run.append(h)
                    if size in checkpoints:
                        self._grow(run)
                        run = []
                        self._check_checkpoints_at(size)
                    continue
            if run:
                self._grow(run)
                run = []
            self.size, self.prev, self._prev_leaf = size, prev, prev_leaf
            self.checked += size - counted
            self.feed(seq, leaf, payload, salt, stored_hash=stored)
            size, prev, prev_leaf = self.size, self.prev, self._prev_leaf
            counted = size
            fast = prev is not None and self._pending_break is None and self._tree_valid
            prev64 = b64(prev) if fast else b""
        if run:
            self._grow(run)
        self.size, self.prev, self._prev_leaf = size, prev, prev_leaf
        self.checked += size - counted

    def _grow(self, hashes: list[bytes]) -> None:
        """Append checked leaf hashes to the tree (and the level-0 tile being filled), exactly as
        ``CompactRange.append`` and ``feed`` would one by one, but a whole aligned tile at a time where
        one fits: its 255 interior nodes are hashed level by level, and the compact range only sees the
        tile's root, merged as a level-8 subtree. The callbacks run in the same order with the same
        arguments (interior levels 1-7 of a tile have none)."""
        rng, on_complete, tiles, sha256 = self.range, self._node_completed, self._tiles_usable, _sha256
        node_seed = sha256(b"\x01")  # copied, not created: see feed_many
        stack, size, i, total = rng.hashes, rng.size, 0, len(hashes)
        while i < total:
            if not size & (TILE_WIDTH - 1) and total - i >= TILE_WIDTH:
                level = hashes[i : i + TILE_WIDTH]
                leaves = level
                while len(level) > 1:
                    pairs = iter(level)  # zipped with itself: consecutive (left, right) pairs
                    parents = []
                    for a, b in zip(pairs, pairs, strict=True):
                        hasher = node_seed.copy()
                        hasher.update(a)
                        hasher.update(b)
                        parents.append(hasher.digest())
                    level = parents
                node, n, height = level[0], size >> TILE_HEIGHT, TILE_HEIGHT
                stack.append(node)
                size += TILE_WIDTH
                i += TILE_WIDTH
                rng.size = size
                on_complete(height, n, node)
            else:
                leaves = None
                node = hashes[i]
                stack.append(node)
                n, height = size, 0
                size += 1
                i += 1
                rng.size = size
            # CompactRange.append: each trailing 1-bit of the old size merges a subtree.
            while n & 1:
                right = stack.pop()
                node = sha256(b"\x01" + stack[-1] + right).digest()
                stack[-1] = node
                n >>= 1
                height += 1
                if not height & 7:  # only tile boundaries concern the verifier's callback
                    on_complete(height, n, node)
            if tiles:
                buf = self._tile_buf[0]
                if leaves is None:
                    buf.append(hashes[i - 1])
                else:
                    buf.extend(leaves)
                if len(buf) == TILE_WIDTH:
                    self._tile_full(0)

    def _chain_link(self, seq: int, ok: bool, leaf: bytes) -> None:
        """Attribute a broken link to the altered entry: if only the link into ``seq`` is broken, the
        entry before it changed; if the link out of ``seq`` breaks too, ``seq`` itself changed."""
        pending = self._pending_break
        if pending is not None:
            pending_seq, pending_leaf = pending
            self._pending_break = None
            if not ok:
                self.problem(seq - 1, "chain_break", f"seq {seq - 1} links to neither neighbour", leaf=self._prev_leaf)
                return
            detail = f"the hash of seq {pending_seq} is not the prev of seq {pending_seq + 1}"
            self.problem(pending_seq, "chain_break", detail, leaf=pending_leaf)
        if not ok:
            if seq == 0:
                self.problem(0, "chain_break", "the genesis entry's prev is not 32 zero bytes", leaf=leaf)
            else:
                self._pending_break = (seq - 1, self._prev_leaf)

    def _resync(self, seq: int) -> None:
        """After a gap, carry on from ``seq`` so later entries are still checked on their own; roots
        are no longer comparable (the gap is already reported)."""
        self._flush_break()
        self.prev = None
        self.size = seq
        self._tree_valid = False

    def _flush_break(self) -> None:
        if self._pending_break is not None:
            p, leaf = self._pending_break
            self._pending_break = None
            self.problem(p, "chain_break", f"the hash of seq {p} is not the prev of seq {p + 1}", leaf=leaf)

    # --- retention ----------------------------------------------------------------------------------
    def _note_missing_payload(self, seq: int, leaf: bytes) -> None:
        try:
            fields = json.loads(leaf)
            expires = parse_time(fields["expires_at"]) if fields.get("expires_at") else None
        except (ValueError, KeyError, TypeError):
            self.problem(seq, "unreadable", "the leaf is not a v1 ledger leaf", leaf=leaf)
            return
        self.purged_candidates.append(_Purged(seq, str(fields.get("id", "")), expires))

    def _note_purge_record(self, seq: int, payload: bytes) -> None:
        try:
            doc = json.loads(payload)
            if doc.get("action", {}).get("type") != PURGE_ACTION:
                return
            purge = doc["context"]["purge"]
            ranges = [(int(a), int(b)) for a, b in purge["seq_ranges"]]
            at = parse_time(purge["purged_at"])
        except (ValueError, KeyError, TypeError):
            self.problem(seq, "unreadable", "a retention purge record is malformed")
            return
        self.purge_cover.append((seq, at, ranges))

    def _check_purges(self) -> int:
        """Each entry without its payload must be covered by a later purge record, made at or after the
        entry expired, whose seq ranges include it; the others are problems. Returns how many were
        purged as recorded."""
        covered_seqs = self._covered_by_purges()
        purged = 0
        for cand in self.purged_candidates:
            if cand.seq in covered_seqs:
                purged += 1
            elif cand.expires_at is None:
                self.problem(cand.seq, "payload_missing", "the entry is permanent", cand.entry_id)
            else:
                self.problem(cand.seq, "payload_missing", "", cand.entry_id)
        return purged

    def _covered_by_purges(self) -> set[int]:
        """The candidates' seqs that a purge record covers, in one sweep over candidates and purge
        ranges in seq order: a log purged daily for years holds thousands of purge records, and testing
        every candidate against every record cost 14 µs a candidate at 365 records, growing with each."""
        spans = sorted((a, b, rec_seq, at) for rec_seq, at, ranges in self.purge_cover for a, b in ranges)
        active: list[tuple[int, int, dt.datetime]] = []  # (last seq, record seq, purged at), by last seq
        covered, i = set(), 0
        for cand in sorted(self.purged_candidates, key=_seq_of):
            seq, expires = cand.seq, cand.expires_at
            while i < len(spans) and spans[i][0] <= seq:  # ranges that start at or before this seq
                heapq.heappush(active, spans[i][1:])
                i += 1
            while active and active[0][0] < seq:  # ranges that ended before it
                heapq.heappop(active)
            if expires is not None and any(rec_seq > seq and expires <= at for _, rec_seq, at in active):
                covered.add(seq)
        return covered

    # --- tiles --------------------------------------------------------------------------------------
    def _node_completed(self, level: int, index: int, h: bytes) -> None:
        if level == TILE_HEIGHT:
            self._tile_root = h  # the root of the level-0 tile just completed (see _tile_full)
        if level % TILE_HEIGHT == 0:
            t = level // TILE_HEIGHT
            if t < len(self._tile_buf):
                self._tile_buf[t].append(h)
                if len(self._tile_buf[t]) == TILE_WIDTH:
                    self._tile_full(t)

    def _tile_full(self, t: int) -> None:
        hashes = self._tile_buf[t]
        self._tile_buf[t] = []
        index = self._tile_start[t] // TILE_WIDTH
        self._tile_start[t] += TILE_WIDTH
        if self.tile_fn is None or not self._tiles_usable:
            return
        first_leaf = index * TILE_WIDTH << (TILE_HEIGHT * t)
        stored = self.tile_fn(t, index)
        if stored is None:
            self.problem(first_leaf, "tile_missing", f"tile {t}/{index} is missing")
            return
        data, root = stored
        expected = b"".join(hashes)
        if data != expected:
            j = next(i for i in range(TILE_WIDTH) if data[32 * i : 32 * i + 32] != hashes[i])
            seq = (index * TILE_WIDTH + j) << (TILE_HEIGHT * t)
            self.problem(seq, "tile_mismatch", f"tile {t}/{index} holds another hash for this entry")
            return
        # A level-0 tile's root is the level-8 node the compact range has just computed from the same
        # hashes; recomputing it doubled the hashing per entry. Higher tiles are rare: recompute.
        if root is not None and root != (self._tile_root if t == 0 else perfect_root(hashes)):
            self.problem(first_leaf, "tile_mismatch", f"tile {t}/{index} stores a wrong root")
            return
        self.tiles_verified += 1

    # --- checkpoints ----------------------------------------------------------------------------------
    def _check_checkpoints_at(self, size: int) -> None:
        notes = self.checkpoints.pop(size, None)
        if not notes:
            return
        root = self.range.root() if self._tree_valid else None
        for note in notes:
            try:
                cp = open_checkpoint(note, self.verifiers, self.origin)
            except NoteError as exc:
                self.problem(max(size - 1, 0), "checkpoint_invalid", f"checkpoint at size {size}: {exc}")
                continue
            if cp.size != size:
                self.problem(max(size - 1, 0), "checkpoint_invalid", f"a note filed at size {size} says {cp.size}")
            elif root is not None and cp.root != root:
                self.problem(
                    max(size - 1, 0),
                    "checkpoint_mismatch",
                    f"the signed checkpoint at size {size} does not match: entries at or before seq {size - 1} "
                    "were rewritten, or the log was rolled back and re-appended",
                )
            else:
                self.checkpoints_verified += 1

    # --- the end ------------------------------------------------------------------------------------
    def finish(self, *, head: tuple[int, bytes] | None = None) -> Report:
        """Close the run: pending chain attributions, checkpoints beyond the end, purges, the head."""
        self._flush_break()
        for size in sorted(self.checkpoints):
            for note in self.checkpoints[size]:
                try:
                    cp = open_checkpoint(note, self.verifiers, self.origin)
                except NoteError as exc:
                    self.problem(self.size, "checkpoint_invalid", f"checkpoint at size {size}: {exc}")
                    continue
                if cp.size > self.size:
                    self.problem(
                        self.size,
                        "checkpoint_beyond_log",
                        f"a signed checkpoint covers {cp.size} entries but only {self.size} are stored",
                    )
        purged = self._check_purges()
        root = self.range.root() if self._tree_valid else b""
        if head is not None and head[0] > self.size:
            for missing in range(self.size, min(head[0], self.size + self.MAX_PROBLEMS)):
                self.problem(missing, "missing_entry", f"the tree head records {head[0]} entries")
        elif head is not None and (head[0] != self.size or head[1] != root):
            self.problem(max(self.size - 1, 0), "head_mismatch", f"the head says size {head[0]}")
        rank = {reason: i for i, reason in enumerate(REASONS)}
        problems = sorted(self.problems, key=lambda p: (p.seq, rank.get(p.reason, len(rank))))
        return Report(
            ok=self.problem_count == 0,
            origin=self.origin,
            start_size=self.start_size,
            size=self.size,
            root=root,
            checked=self.checked,
            bad_entries=len(self.bad),
            problems=problems,
            checkpoints_verified=self.checkpoints_verified,
            tiles_verified=self.tiles_verified,
            purged=purged,
            withheld=self.withheld,
            seconds=time.perf_counter() - self._started,
            compact_range=self.range.to_bytes(),
            last_hash=self.prev or b"",
            problem_count=self.problem_count,
        )


def checkpoint_of(note: str, verifiers: list[Verifier], origin: str | None = None) -> Checkpoint:
    """Open a trusted checkpoint (an auditor's saved copy), raising NoteError when it does not verify."""
    return open_checkpoint(note, verifiers, origin)


__all__ = ["REASONS", "LogVerifier", "Problem", "Report", "checkpoint_of", "node_hash"]
