"""The tree as stored: any perfect subtree hash from full tiles, entry hashes and tile roots, so
inclusion and consistency proofs for any tree size up to the head take a handful of indexed reads."""

from __future__ import annotations

from collections import OrderedDict

from .models import LedgerEntry, LedgerTile
from .offline import merkle
from .offline.formats import TILE_HEIGHT, TILE_WIDTH

_CACHE_SIZE = 2048  # full tiles never change, so their interior levels can be cached indefinitely
_tile_cache: OrderedDict[tuple[bytes, int, int], list[list[bytes]]] = OrderedDict()


def _levels(hashes: list[bytes]) -> list[list[bytes]]:
    """All 9 levels of a full tile's subtree (256 hashes up to its root)."""
    levels = [hashes]
    while len(levels[-1]) > 1:
        row = levels[-1]
        levels.append([merkle.node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)])
    return levels


class StoredTree:
    """Reads of the stored tree. Full tiles are cached per process under the log's genesis hash, so
    a different database (tests, a restored backup) never sees another log's tiles."""

    def __init__(self):
        genesis = LedgerEntry.objects.filter(seq=0).values_list("entry_hash", flat=True).first()
        self.log_id = bytes(genesis) if genesis is not None else b""

    def _full_tile(self, level: int, index: int) -> list[list[bytes]] | None:
        key = (self.log_id, level, index)
        cached = _tile_cache.get(key)
        if cached is not None:
            _tile_cache.move_to_end(key)
            return cached
        data = LedgerTile.objects.filter(level=level, index=index).values_list("hashes", flat=True).first()
        if data is None:
            return None
        data = bytes(data)
        levels = _levels([data[i : i + 32] for i in range(0, len(data), 32)])
        _tile_cache[key] = levels
        if len(_tile_cache) > _CACHE_SIZE:
            _tile_cache.popitem(last=False)
        return levels

    def node(self, level: int, index: int) -> bytes:
        """Hash of the perfect subtree at (level, index); it must lie within the integrated log."""
        t, r = divmod(level, TILE_HEIGHT)
        first = index << r
        tile = self._full_tile(t, first // TILE_WIDTH)
        if tile is not None:
            return tile[r][(first % TILE_WIDTH) >> r]
        return merkle.perfect_root(_edge_hashes(t, first, 1 << r))

    def root(self, size: int) -> bytes:
        return merkle.EMPTY_ROOT if size == 0 else merkle.range_hash(self.node, 0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(self.node, index, size)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return merkle.consistency_proof(self.node, old, new)

    def compact_range(self, size: int) -> merkle.CompactRange:
        """The compact range of the tree at ``size`` (to resume verification from a checkpoint)."""
        return merkle.CompactRange(size, [self.node(lv, ix) for lv, ix in merkle.compact_range_nodes(size)])


def clear_cache() -> None:
    """Forget cached tiles."""
    _tile_cache.clear()


def _edge_hashes(t: int, first: int, count: int) -> list[bytes]:
    """Level-8t node hashes [first, first+count) at the right edge, where no full tile exists yet."""
    if t == 0:
        rows = LedgerEntry.objects.filter(seq__gte=first, seq__lt=first + count).order_by("seq")
        hashes = [bytes(h) for h in rows.values_list("entry_hash", flat=True)]
    else:
        rows = LedgerTile.objects.filter(level=t - 1, index__gte=first, index__lt=first + count).order_by("index")
        hashes = [bytes(h) for h in rows.values_list("root", flat=True)]
    if len(hashes) != count:
        raise LookupError(f"the stored tree lacks level-{TILE_HEIGHT * t} nodes {first}..{first + count - 1}")
    return hashes
