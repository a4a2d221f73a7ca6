"""The tree as stored: any perfect subtree hash from full tiles, entry hashes and tile roots, so
inclusion and consistency proofs for any tree size up to the head take a handful of indexed reads."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from django.db import connection

from .models import LedgerEntry, LedgerTile
from .offline import merkle
from .offline.formats import TILE_HEIGHT, TILE_WIDTH

_CACHE_SIZE = 2048  # full tiles never change, so their interior levels can be cached indefinitely
_tile_cache: OrderedDict[tuple[bytes, int, int], list[list[bytes]]] = OrderedDict()
_edge_cache: OrderedDict[tuple[bytes, int, int], list[list[bytes]]] = OrderedDict()


def _levels(hashes: list[bytes]) -> list[list[bytes]]:
    """The perfect subtrees of a tile, level by level (a full tile has 9 levels up to its root; a
    partial one only the complete pairs)."""
    sha256 = hashlib.sha256  # merkle.node_hash inlined: a cold proof hashes about 500 nodes here
    levels = [hashes]
    while len(levels[-1]) > 1:
        row = levels[-1]
        levels.append([sha256(b"\x01" + row[i] + row[i + 1]).digest() for i in range(0, len(row) - 1, 2)])
    return levels


class StoredTree:
    """Reads of the stored tree. Full tiles are cached per process under the log's genesis hash (so a
    different database, in tests or after a restore, never sees another log's tiles); the partial
    tiles of the right edge are read once per instance. A proof at 10 M entries reads at most one full
    and one partial tile per tile level."""

    def __init__(self, log_id: bytes | None = None):
        """``log_id`` is the genesis entry's hash when the caller read it already (with the checkpoint)."""
        if log_id is None:
            genesis = LedgerEntry.objects.filter(seq=0).values_list("entry_hash", flat=True).first()
            log_id = bytes(genesis) if genesis is not None else b""
        self.log_id = log_id

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
        t, r = divmod(level, TILE_HEIGHT)
        first = index << r
        key = (t, first // TILE_WIDTH)
        for attempt in (0, 1):
            levels = self._tile(*key)
            row = levels[r] if r < len(levels) else []
            j = (first % TILE_WIDTH) >> r
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
        wanted = {(lv // TILE_HEIGHT, (ix << (lv % TILE_HEIGHT)) // TILE_WIDTH) for lv, ix in nodes}
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
        with connection.cursor() as cur:
            cur.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 2, 3", args)
            rows = cur.fetchall()
        found: dict[tuple[int, int], list[bytes]] = {tk: [] for tk in edge}
        for kind, lv, position, data in rows:
            data = bytes(data)
            if kind == 0:
                _tile_cache[(self.log_id, lv, position)] = _levels([data[i : i + 32] for i in range(0, len(data), 32)])
                continue
            key = (lv, position // TILE_WIDTH)
            hashes = found[key]
            # Only the contiguous prefix counts: a gap in the stored log must not shift later nodes.
            if len(hashes) == position - key[1] * TILE_WIDTH:
                hashes.append(data)
        for key, hashes in found.items():
            _edge_cache[(self.log_id, *key)] = _levels(hashes)

    def _planned(self, proof_fn, *args) -> list[bytes]:
        """Run a proof once on placeholder hashes to learn which nodes it reads, fetch their tiles
        together, then run it for real."""
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


def clear_cache() -> None:
    """Forget cached tiles."""
    _tile_cache.clear()
    _edge_cache.clear()


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
