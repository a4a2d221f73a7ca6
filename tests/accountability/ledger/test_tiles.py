"""The stored tree (tiles, entry hashes, tile roots) answers for every size what the in-memory RFC 6962
tree answers: roots, inclusion and consistency proofs, across level-0 and level-1 tile boundaries."""

from __future__ import annotations

import hashlib
import random

import pytest
from django.db import connection
from django.utils import timezone

from accountability.ledger.append import append_entry
from accountability.ledger.models import LedgerEntry, LedgerHead, LedgerTile
from accountability.ledger.offline import merkle
from accountability.ledger.store import _complete_tiles
from accountability.ledger.tiles import StoredTree

from .conftest import action_entry


@pytest.mark.django_db
def test_stored_tree_matches_memory_tree_across_tile_boundaries(project, grant, integrate):
    for n in range(600):
        append_entry(**action_entry(n))
    integrate()
    hashes = [bytes(h) for h in LedgerEntry.objects.order_by("seq").values_list("entry_hash", flat=True)]
    size = len(hashes)
    assert LedgerTile.objects.filter(level=0).count() == size // 256 == 2
    memory, stored = merkle.MemoryTree(hashes), StoredTree()
    assert bytes(LedgerHead.objects.get().root) == memory.root()
    for n in range(size + 1):
        assert stored.root(n) == memory.root(n), n
    rng = random.Random(7)
    for n in [1, 255, 256, 257, 511, 512, 513, size]:
        for index in {0, n - 1, n // 2, rng.randrange(n)}:
            proof = stored.inclusion_proof(index, n)
            assert proof == memory.inclusion_proof(index, n)
            assert merkle.verify_inclusion(index, n, hashes[index], proof, memory.root(n))
        for old in {0, 1, n // 3, n - 1, n}:
            assert stored.consistency_proof(old, n) == memory.consistency_proof(old, n)


@pytest.mark.django_db
def test_level_one_tiles_are_built_from_level_zero_roots():
    """65,536 + 300 leaves (written directly, to keep the test fast) complete a level-1 tile."""
    size = 65536 + 300
    rng = random.Random(1)
    now = timezone.now()
    hashes = [hashlib.sha256(rng.randbytes(8)).digest() for _ in range(size)]
    columns = [
        "seq",
        "entry_id",
        "entry_type",
        "project_key",
        "trace_id",
        "task_id",
        "actor_ref",
        "action_type",
        "oversight",
        "reversibility",
        "occurred_at",
        "received_at",
        "recorded_at",
        "retention",
        "payload_hash",
        "attribution_gaps",
        "corrects_entry_id",
        "leaf_bytes",
        "entry_hash",
        "previous_hash",
        "redacted_by",
    ]
    rows = [
        (
            i,
            f"LED-{i:026d}",
            "action",
            "",
            "",
            "",
            "model:x",
            "t",
            "",
            "",
            now,
            now,
            now,
            "P90D",
            b"",
            "",
            "",
            b"",
            h,
            hashes[i - 1] if i else bytes(32),
            "",
        )
        for i, h in enumerate(hashes)
    ]
    sql = f"INSERT INTO ledger_ledgerentry ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    with connection.cursor() as cur:
        cur.executemany(sql, rows)
    _complete_tiles(0, 65436)  # in two steps, as two integrations would
    _complete_tiles(65436, size)
    assert LedgerTile.objects.filter(level=0).count() == 257
    [level1] = LedgerTile.objects.filter(level=1)
    memory = merkle.MemoryTree(hashes)
    assert bytes(level1.root) == memory.node(16, 0)
    assert bytes(level1.hashes) == b"".join(memory.node(8, i) for i in range(256))
    stored = StoredTree()
    for n in [65535, 65536, 65537, size]:
        assert stored.root(n) == memory.root(n)
        for index in {0, 300, min(65535, n - 1), n - 1}:
            proof = stored.inclusion_proof(index, n)
            assert merkle.verify_inclusion(index, n, hashes[index], proof, memory.root(n))
    assert stored.consistency_proof(1000, size) == memory.consistency_proof(1000, size)
    assert stored.compact_range(size).root() == memory.root()


@pytest.mark.django_db
def test_an_entrys_proof_reads_the_checkpoint_and_the_log_id_together(project, grant, integrate, settings):
    """``entry_inclusion`` gets the genesis hash (the tile cache's key) with the checkpoint; its proofs,
    cold or from the cache, equal the in-memory tree's and verify against the signed root, at the
    latest checkpoint and at an earlier one."""
    from accountability.ledger import tiles
    from accountability.ledger.models import Checkpoint
    from accountability.ledger.selectors import entry_inclusion

    from .test_proof_read import statements

    settings.ICDEV_LEDGER_CHECKPOINT_INTERVAL = 0  # sign whenever the log grows
    for n in range(298):
        append_entry(**action_entry(n))
        if n == 254:
            integrate()  # a checkpoint at 257, just past the first full tile
    integrate()
    hashes = [bytes(h) for h in LedgerEntry.objects.order_by("seq").values_list("entry_hash", flat=True)]
    memory = merkle.MemoryTree(hashes)
    sizes = sorted(Checkpoint.objects.values_list("tree_size", flat=True))
    assert sizes[-1] == len(hashes) == 300
    assert 257 in sizes
    for size in (None, 257):
        n = size or sizes[-1]
        for seq in sorted({0, 1, 255, 256, n // 2, n - 1}):
            entry = LedgerEntry.objects.get(seq=seq)
            tiles.clear_cache()
            cold = entry_inclusion(entry, size)
            with statements() as sent:
                warm = entry_inclusion(entry, size)
            assert len(sent()) == 1  # the tiles are cached: only the checkpoint is read
            for inclusion in (cold, warm):
                assert inclusion.checkpoint.tree_size == n
                assert bytes(inclusion.checkpoint.log_id) == hashes[0]
                assert bytes(inclusion.checkpoint.root) == memory.root(n)
                assert inclusion.path == memory.inclusion_proof(seq, n)
                assert merkle.verify_inclusion(seq, n, hashes[seq], inclusion.path, memory.root(n))
    assert StoredTree(log_id=hashes[0]).inclusion_proof(7, 300) == StoredTree().inclusion_proof(7, 300)
