"""The tree as stored: any perfect subtree hash from full tiles, entry hashes and tile roots, so
inclusion and consistency proofs for any tree size up to the head take a handful of indexed reads."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from django.db import connection

from . import store
from .models import Checkpoint, LedgerEntry, LedgerTile
from .offline import merkle
from .offline import note as notes
from .offline.formats import TILE_HEIGHT, TILE_WIDTH

_CACHE_SIZE = 2048  # full tiles never change, so their interior levels can be cached indefinitely
_tile_cache: OrderedDict[tuple[bytes, int, int], list[list[bytes]]] = OrderedDict()
_edge_cache: OrderedDict[tuple[bytes, int, int], list[list[bytes]]] = OrderedDict()
# The genesis hash the last read returned: which log's cached tiles a proof can leave out of its one
# query. Only a guess (the tiles are still keyed by the hash that query returns): a wrong one costs
# a second read, never a wrong node.
_log_hint: bytes | None = None
# Tile levels whose path tiles ride along with the checkpoint: every proof in a log of up to 2**32
# entries is one query; in a larger log the higher tiles take a second one.
_PATH_TILE_LEVELS = 4


def _levels(hashes: list[bytes]) -> list[list[bytes]]:
    """The perfect subtrees of a tile, level by level (a full tile has 9 levels up to its root; a
    partial one only the complete pairs)."""
    sha256 = hashlib.sha256  # merkle.node_hash inlined: a cold proof hashes about 500 nodes here
    levels = [hashes]
    while len(levels[-1]) > 1:
        row = levels[-1]
        levels.append([sha256(b"\x01" + row[i] + row[i + 1]).digest() for i in range(0, len(row) - 1, 2)])
    return levels


class _Missing(Exception):
    """A node that is neither known nor cached: the proof has to read tiles first."""


class StoredTree:
    """Reads of the stored tree. Full tiles are cached per process under the log's genesis hash (so a
    different database, in tests or after a restore, never sees another log's tiles); the partial
    tiles of the right edge are read once per instance. A proof at 10 M entries reads at most one full
    and one partial tile per tile level."""

    def __init__(self, log_id: bytes | None = None):
        """``log_id`` is the genesis entry's hash when the caller read it already (with the checkpoint)."""
        global _log_hint
        if log_id is None:
            genesis = LedgerEntry.objects.filter(seq=0).values_list("entry_hash", flat=True).first()
            log_id = bytes(genesis) if genesis is not None else b""
        self.log_id = _log_hint = log_id
        # Right-edge nodes of one tree size, from a stored compact range that folded to its signed root.
        self._known: dict[tuple[int, int], bytes] = {}

    @classmethod
    def with_checkpoint(cls, index: int, size: int | None = None) -> tuple[Checkpoint | None, StoredTree]:
        """The latest checkpoint (or the one at ``size``) and a tree ready to prove leaf ``index`` in it,
        in one query: the checkpoint with its compact range, the genesis hash (the cache's key) and the
        tiles on the leaf's path that are not cached (each full tile, or where none is stored yet, its
        level-8t hashes). The path tiles do not depend on the tree size: a stored full tile holds the
        same nodes in every tree that contains them. With the compact range for the right edge, a proof
        in a log of up to 2**32 entries needs nothing more; ``_planned`` reads whatever is still missing."""
        quote = connection.ops.quote_name
        cp_table, tile_table = Checkpoint._meta.db_table, LedgerTile._meta.db_table
        entry_table = LedgerEntry._meta.db_table
        level, idx = quote("level"), quote("index")
        where, args = ("", []) if size is None else ("WHERE tree_size = %s ", [size])
        parts = [
            "SELECT 3, id, tree_size, root, compact_range, note FROM (SELECT id, tree_size, root, compact_range, "  # noqa: S608
            f"note FROM {cp_table} {where}ORDER BY tree_size DESC LIMIT 1) cp",
            f"SELECT 4, 0, 0, entry_hash, NULL, NULL FROM {entry_table} WHERE seq = 0",  # noqa: S608
        ]
        path = [(t, index >> (TILE_HEIGHT * (t + 1))) for t in range(_PATH_TILE_LEVELS)]
        path = [tk for tk in path if (_log_hint, *tk) not in _tile_cache and (_log_hint, *tk) not in _edge_cache]
        if path:
            parts.append(
                f"SELECT 0, {level}, {idx}, hashes, NULL, NULL FROM {tile_table} WHERE "  # noqa: S608
                + " OR ".join([f"({level} = %s AND {idx} = %s)"] * len(path))
            )
            args += [v for tk in path for v in tk]
        for t, i in path:
            # Only while no full tile is stored (the right edge): its level-8t hashes, as ``_read`` reads them.
            absent = f"NOT EXISTS (SELECT 1 FROM {tile_table} WHERE {level} = %s AND {idx} = %s)"  # noqa: S608
            first = i * TILE_WIDTH
            if t == 0:
                parts.append(
                    f"SELECT 1, 0, seq, entry_hash, NULL, NULL FROM {entry_table} "  # noqa: S608
                    f"WHERE seq >= %s AND seq < %s AND {absent}"
                )
                args += [first, first + TILE_WIDTH, t, i]
            else:
                parts.append(
                    f"SELECT 2, {level} + 1, {idx}, root, NULL, NULL FROM {tile_table} "  # noqa: S608
                    f"WHERE {level} = %s AND {idx} >= %s AND {idx} < %s AND {absent}"
                )
                args += [t - 1, first, first + TILE_WIDTH, t, i]
        # Prepared on PostgreSQL (as the append's statements are): planning this union cost more than
        # running it, and its text is the same for every cold proof.
        rows = store.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 2, 3", args, fetch="all")
        checkpoint, log_id, tile_rows = None, b"", []
        for kind, a, b, data, compact_range, note in rows:
            if kind < 3:
                tile_rows.append((kind, a, b, data))
            elif kind == 3:
                # key_id and created_at stay deferred: a proof does not need them (read on access).
                checkpoint = Checkpoint.from_db(
                    connection.alias,
                    ["id", "tree_size", "root", "note", "compact_range"],
                    [a, b, bytes(data), note, None if compact_range is None else bytes(compact_range)],
                )
            else:
                log_id = bytes(data)
        tree = cls(log_id)
        tree._store(tile_rows, path)
        if checkpoint is not None:
            checkpoint.log_id = log_id
            tree.use_compact_range(checkpoint.tree_size, checkpoint.compact_range, _signed_root(checkpoint))
        return checkpoint, tree

    def use_compact_range(self, size: int, data: bytes | None, root: bytes | None) -> bool:
        """Take the right-edge nodes of the tree at ``size`` from its stored compact range, but only when
        the range folds to ``root`` (the signed root): a wrong stored hash then cannot reach a proof (it
        would take a SHA-256 collision to fold to the same root), and the tiles are read instead. A
        client checks every proof against the signed root anyway, so a wrong node could only make a
        proof fail, never pass; this check keeps it from failing."""
        if data is None or root is None:
            return False
        try:
            compact = merkle.CompactRange.from_bytes(size, data)
        except ValueError:  # not one hash per set bit of the size
            return False
        if compact.root() != root:
            return False
        self._known = dict(zip(merkle.compact_range_nodes(size), compact.hashes, strict=True))
        return True

    def _tile(self, level: int, index: int) -> list[list[bytes]]:
        """The levels of tile (level, index): full tiles from the process cache or the tile table,
        the right edge's partial tile from the process cache or the entries and tile roots."""
        key = (self.log_id, level, index)
        cached = _tile_cache.get(key) or _edge_cache.get(key)
        if cached is not None:
            return cached
        self.prefetch([(level * TILE_HEIGHT, index << TILE_HEIGHT)])
        return _tile_cache.get(key) or _edge_cache[key]

    def node(self, level: int, index: int) -> bytes:
        """Hash of the perfect subtree at (level, index); it must lie within the integrated log."""
        known = self._known.get((level, index))
        if known is not None:
            return known
        key, r, j = _place(level, index)
        for attempt in (0, 1):
            levels = self._tile(*key)
            row = levels[r] if r < len(levels) else []
            if j < len(row):
                return row[j]
            if attempt == 0:  # a partial tile cached when the log was shorter: read it again
                _edge_cache.pop((self.log_id, *key), None)
        raise LookupError(f"the stored tree has no node ({level}, {index}) yet")

    def prefetch(self, nodes, size: int | None = None) -> None:
        """Read every tile the given nodes need. With the tree ``size`` known, the tiles it covers
        completely and the partial tiles of its right edge come in one UNION query (a proof needs a
        handful of tiles; each round trip was most of a cold proof's cost); without it, or when a
        tile that should be full is not stored, full tiles come first and the edge after."""
        known = self._known
        wanted = {
            (lv // TILE_HEIGHT, (ix << (lv % TILE_HEIGHT)) // TILE_WIDTH) for lv, ix in nodes if (lv, ix) not in known
        }
        missing = [
            tk for tk in wanted if (self.log_id, *tk) not in _tile_cache and (self.log_id, *tk) not in _edge_cache
        ]
        if not missing:
            return
        edge = set()
        if size is not None:
            # Tile (t, i) is complete in a tree of ``size`` leaves when it ends at or before ``size``.
            edge = {(t, i) for t, i in missing if (i + 1) * TILE_WIDTH << (TILE_HEIGHT * t) > size}
        full = [tk for tk in missing if tk not in edge]
        self._read(full, sorted(edge))
        while len(_tile_cache) > _CACHE_SIZE:
            _tile_cache.popitem(last=False)
        for level, index in full:
            if (self.log_id, level, index) not in _tile_cache:
                # The right edge only grows: what is read now stays valid, and a node beyond it makes
                # ``node`` read the edge again.
                _edge_cache[(self.log_id, level, index)] = _levels(_edge_hashes(level, index * TILE_WIDTH, TILE_WIDTH))
        while len(_edge_cache) > 64:
            _edge_cache.popitem(last=False)

    def _read(self, full: list[tuple[int, int]], edge: list[tuple[int, int]]) -> None:
        """One query: the stored full tiles in ``full`` (kind 0), and for each partial tile in ``edge``
        its level-8t hashes: entry hashes (kind 1) or the roots of the tiles below (kind 2)."""
        quote = connection.ops.quote_name
        tile_table, entry_table = LedgerTile._meta.db_table, LedgerEntry._meta.db_table
        level, index = quote("level"), quote("index")
        parts, args = [], []
        if full:
            where = " OR ".join([f"({level} = %s AND {index} = %s)"] * len(full))
            parts.append(f"SELECT 0, {level}, {index}, hashes FROM {tile_table} WHERE {where}")  # noqa: S608
            args += [v for tk in full for v in tk]
        for t, i in edge:
            first = i * TILE_WIDTH
            if t == 0:
                parts.append(f"SELECT 1, 0, seq, entry_hash FROM {entry_table} WHERE seq >= %s AND seq < %s")  # noqa: S608
                args += [first, first + TILE_WIDTH]
            else:
                parts.append(
                    f"SELECT 2, {level} + 1, {index}, root FROM {tile_table} "  # noqa: S608
                    f"WHERE {level} = %s AND {index} >= %s AND {index} < %s"
                )
                args += [t - 1, first, first + TILE_WIDTH]
        if not parts:
            return
        # Prepared on PostgreSQL: a proof at a given size repeats the same statement for its tiles.
        self._store(store.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 2, 3", args, fetch="all"), edge)

    def _store(self, rows, edge) -> None:
        """Cache the rows of a tile read (ordered by kind, level, position): full tiles (kind 0), and
        the level-8t hashes of the partial tiles in ``edge`` (kinds 1 and 2) for which no full tile came,
        empty when none is stored yet (so a warm proof does not ask again; ``node`` re-reads a partial
        tile that lacks a node it needs)."""
        found: dict[tuple[int, int], list[bytes]] = {}
        for kind, lv, position, data in rows:
            data = bytes(data)
            if kind == 0:
                _tile_cache[(self.log_id, lv, position)] = _levels([data[i : i + 32] for i in range(0, len(data), 32)])
                continue
            key = (lv, position // TILE_WIDTH)
            hashes = found.setdefault(key, [])
            # Only the contiguous prefix counts: a gap in the stored log must not shift later nodes.
            if len(hashes) == position - key[1] * TILE_WIDTH:
                hashes.append(data)
        for key in edge:
            if (self.log_id, *key) not in _tile_cache:
                _edge_cache[(self.log_id, *key)] = _levels(found.get(key, []))
        while len(_tile_cache) > _CACHE_SIZE:
            _tile_cache.popitem(last=False)
        while len(_edge_cache) > 64:
            _edge_cache.popitem(last=False)

    def _cached_node(self, level: int, index: int) -> bytes:
        """``node`` from what is known or cached already, reading nothing: _Missing otherwise."""
        known = self._known.get((level, index))
        if known is not None:
            return known
        (t, i), r, j = _place(level, index)
        key = (self.log_id, t, i)
        levels = _tile_cache.get(key) or _edge_cache.get(key)
        if levels is not None and r < len(levels) and j < len(levels[r]):
            return levels[r][j]
        raise _Missing

    def _planned(self, proof_fn, *args) -> list[bytes]:
        """Run a proof on the nodes at hand; when one is missing, run it once on placeholder hashes to
        learn which nodes it reads, fetch their tiles together, then run it for real."""
        try:
            return proof_fn(self._cached_node, *args)
        except _Missing:
            pass
        needed: list[tuple[int, int]] = []

        def record(level: int, index: int) -> bytes:
            needed.append((level, index))
            return bytes(32)

        proof_fn(record, *args)
        self.prefetch(needed, size=args[-1])  # every proof's last argument is the tree size
        return proof_fn(self.node, *args)

    def root(self, size: int) -> bytes:
        if size == 0:
            return merkle.EMPTY_ROOT
        return self._planned(lambda node, n: merkle.range_hash(node, 0, n), size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self._planned(merkle.inclusion_proof, index, size)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return self._planned(merkle.consistency_proof, old, new)

    def compact_range(self, size: int) -> merkle.CompactRange:
        """The compact range of the tree at ``size`` (to resume verification from a checkpoint)."""
        return merkle.CompactRange(size, [self.node(lv, ix) for lv, ix in merkle.compact_range_nodes(size)])


def _signed_root(checkpoint: Checkpoint) -> bytes | None:
    """The root in the checkpoint's note, the one clients check proofs against (not the root column,
    which an edit of the table could change along with the compact range); None if the note does not
    parse or names another size. Its signature is the client's to check."""
    note = checkpoint.note
    try:  # the body as ``split_note`` cuts it, without its character scan (nothing here is verified)
        body = notes.Checkpoint.parse_text(note[: note.rfind("\n\n") + 1])
    except notes.NoteError:
        return None
    return body.root if body.size == checkpoint.tree_size else None


def _place(level: int, index: int) -> tuple[tuple[int, int], int, int]:
    """Where node (level, index) sits: its tile (tile level, tile index), the level within that
    tile, and its position in that level's row."""
    t, r = divmod(level, TILE_HEIGHT)
    first = index << r
    return (t, first // TILE_WIDTH), r, (first % TILE_WIDTH) >> r


def clear_cache() -> None:
    """Forget cached tiles."""
    global _log_hint
    _tile_cache.clear()
    _edge_cache.clear()
    _log_hint = None


def _edge_hashes(t: int, first: int, count: int) -> list[bytes]:
    """The level-8t node hashes that exist in [first, first+count): entry hashes at level 0, the roots
    of level-(t-1) tiles above it (the right edge, where no full tile exists yet). Only the contiguous
    prefix counts: a gap in the stored log must not shift later nodes into the wrong place."""
    quote = connection.ops.quote_name
    if t == 0:
        table = LedgerEntry._meta.db_table
        sql = f"SELECT seq, entry_hash FROM {table} WHERE seq >= %s AND seq < %s ORDER BY seq"  # noqa: S608
        args = [first, first + count]
    else:
        sql = (
            f"SELECT {quote('index')}, root FROM {LedgerTile._meta.db_table} WHERE {quote('level')} = %s "  # noqa: S608
            f"AND {quote('index')} >= %s AND {quote('index')} < %s ORDER BY {quote('index')}"
        )
        args = [t - 1, first, first + count]
    with connection.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall()
    hashes = []
    for expected, (position, h) in enumerate(rows, start=first):
        if position != expected:
            break
        hashes.append(bytes(h))
    return hashes
