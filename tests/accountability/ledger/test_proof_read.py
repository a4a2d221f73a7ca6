"""An entry's proof in one query: the checkpoint, its stored compact range (the right edge), the
genesis hash and the tiles on the entry's path. Proofs must equal the in-memory tree's whichever way
the nodes were read, and a stored compact range that does not fold to the signed root is never used."""

from __future__ import annotations

import contextlib
import hashlib
import random
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accountability.ledger import keys, store, tiles
from accountability.ledger.append import append_entry
from accountability.ledger.models import Checkpoint, LedgerEntry, LedgerTile
from accountability.ledger.offline import merkle
from accountability.ledger.offline.note import Checkpoint as CheckpointBody
from accountability.ledger.offline.note import sign_note
from accountability.ledger.selectors import appended_count, entry_inclusion
from accountability.ledger.store import _complete_tiles

from .conftest import action_entry, as_dba


@contextlib.contextmanager
def statements():
    """The statements sent, through Django's cursor and through the driver cursor that the ledger's
    prepared statements use (Django's query log does not see those)."""
    sent: list[str] = []
    real = store._run

    def counting(db, sql, params=(), fetch=""):
        """Record the statement, then run it."""
        sent.append(sql)
        return real(db, sql, params, fetch)

    with CaptureQueriesContext(connection) as django, mock.patch.object(store, "_run", counting):
        yield lambda: sent + [q["sql"] for q in django.captured_queries]


def _hashes() -> list[bytes]:
    """Every entry hash of the log, in order."""
    return [bytes(h) for h in LedgerEntry.objects.order_by("seq").values_list("entry_hash", flat=True)]


def _proved(seq: int, size: int | None, memory: merkle.MemoryTree, count: int) -> None:
    """The entry's proof, cold then warm, is the in-memory tree's, verifies, and took ``count``
    statements cold and one warm."""
    entry = LedgerEntry.objects.get(seq=seq)
    tiles.clear_cache()
    with statements() as sent:
        cold = entry_inclusion(entry, size)
    assert len(sent()) == count, (seq, size)
    with statements() as sent:
        warm = entry_inclusion(entry, size)
    [query] = sent()
    assert LedgerTile._meta.db_table not in query  # every tile on the path is cached, even empty ones
    n = cold.checkpoint.tree_size
    assert size in (None, n)
    for inclusion in (cold, warm):
        assert inclusion.checkpoint.tree_size == n
        assert bytes(inclusion.checkpoint.root) == memory.root(n)
        assert inclusion.path == memory.inclusion_proof(seq, n), (seq, n)
        assert merkle.verify_inclusion(seq, n, memory.node(0, seq), inclusion.path, memory.root(n))


@pytest.fixture
def log(project, grant, integrate, settings):
    """A log of about 600 entries with checkpoints at sizes around the tile boundaries."""
    settings.ICDEV_LEDGER_CHECKPOINT_INTERVAL = 0  # sign whenever the log grows
    wanted = {3, 255, 256, 257, 300, 511, 512, 513}
    for n in range(598):
        append_entry(**action_entry(n))
        if appended_count() + 1 in wanted:  # and the genesis entry
            integrate()
    integrate()
    memory = merkle.MemoryTree(_hashes())
    sizes = set(Checkpoint.objects.values_list("tree_size", flat=True))
    assert wanted | {memory.size} <= sizes
    assert memory.size > 513
    assert Checkpoint.objects.filter(compact_range__isnull=True).count() == 0
    return memory


@pytest.mark.django_db
def test_each_checkpoint_stores_the_compact_range_of_its_size(log):
    for cp in Checkpoint.objects.all():
        expected = b"".join(log.node(lv, ix) for lv, ix in merkle.compact_range_nodes(cp.tree_size))
        assert bytes(cp.compact_range) == expected, cp.tree_size


@pytest.mark.django_db
def test_a_cold_proof_is_one_query_at_every_checkpoint_and_position(log):
    """Full and partial path tiles, at the latest checkpoint and at earlier ones: one query cold,
    one warm, and the in-memory tree's proof."""
    rng = random.Random(3)
    for size in (None, 3, 255, 256, 257, 300, 511, 512, 513):
        n = size or log.size
        for seq in sorted({0, 1, 127, 254, 255, 256, 257, 511, 512, n // 2, n - 1, rng.randrange(n)}):
            if seq < n:
                _proved(seq, size, log, count=1)


@pytest.mark.django_db
def test_a_checkpoint_without_a_compact_range_reads_the_right_edge(log):
    """Checkpoints signed before the column existed keep the old path: a second read for the edge."""
    with as_dba() as cur:
        cur.execute("UPDATE ledger_checkpoint SET compact_range = NULL WHERE tree_size IN (300, %s)", [log.size])
    for size in (None, 300):
        for seq in (0, 100, 255):
            _proved(seq, size, log, count=2)
    # Where the right edge lies in the entry's own path tiles, read with the checkpoint, one is enough.
    for seq in (256, 299):
        _proved(seq, 300, log, count=1)


def _corruptions(good: bytes) -> dict[str, bytes]:
    """Stored compact ranges that must not be used (the size 300 = 256 + 32 + 8 + 4 has four hashes)."""
    assert len(good) == 4 * 32

    def flip(i: int) -> bytes:
        """The range with one bit of hash ``i`` changed."""
        data = bytearray(good)
        data[32 * i + 5] ^= 0x10
        return bytes(data)

    return {
        "first hash changed": flip(0),
        "last hash changed": flip(3),
        "a hash missing": good[:96],
        "a hash too many": good + good[:32],
        "a torn hash": good[:-1],
        "hashes swapped": good[32:64] + good[:32] + good[64:],
        "empty": b"",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "first hash changed",
        "last hash changed",
        "a hash missing",
        "a hash too many",
        "a torn hash",
        "hashes swapped",
        "empty",
    ],
)
def test_a_corrupted_stored_compact_range_is_not_used(log, name):
    """A changed, missing or shuffled hash does not fold to the signed root: the proof reads the
    right edge from the tiles instead (two queries) and is still the in-memory tree's."""
    good = bytes(Checkpoint.objects.get(tree_size=300).compact_range)
    with as_dba() as cur:
        cur.execute("UPDATE ledger_checkpoint SET compact_range = %s WHERE tree_size = 300", [_corruptions(good)[name]])
    for seq in (0, 100, 255, 256, 290, 299):
        _proved(seq, 300, log, count=2 if seq < 256 else 1)  # from 256 on, the edge is in the path tiles


@pytest.mark.django_db
def test_a_compact_range_forged_with_the_root_column_is_not_used(log):
    """An edit that changes the root column to match a forged compact range is caught too: the range
    must fold to the root in the signed note, which the edit cannot change without the key."""
    forged = [hashlib.sha256(bytes([i])).digest() for i in range(4)]
    root = merkle.CompactRange(300, forged).root()
    with as_dba() as cur:
        cur.execute(
            "UPDATE ledger_checkpoint SET compact_range = %s, root = %s WHERE tree_size = 300",
            [b"".join(forged), root],
        )
    entry = LedgerEntry.objects.get(seq=10)
    tiles.clear_cache()
    inclusion = entry_inclusion(entry, 300)
    assert inclusion.path == log.inclusion_proof(10, 300)
    assert merkle.verify_inclusion(10, 300, log.node(0, 10), inclusion.path, log.root(300))


@pytest.mark.django_db
def test_tiles_above_the_levels_read_with_the_checkpoint_come_in_a_second_query(log, monkeypatch):
    """In a log taller than the path levels read with the checkpoint (2**32 entries), the higher
    path tiles are read afterwards; the proof is the same."""
    monkeypatch.setattr(tiles, "_PATH_TILE_LEVELS", 1)
    for seq in (0, 300, 511):
        _proved(seq, None, log, count=2)
    # The last entry's siblings above its tile are all in the compact range: nothing more to read.
    _proved(log.size - 1, None, log, count=1)


@pytest.mark.django_db
def test_tiles_cached_for_another_log_are_read_again(log):
    """The cached tiles left out of the query are those of the log this process saw last; when the
    database now holds another log, the tiles are read under the new log's key (a second query)."""
    entry = LedgerEntry.objects.get(seq=42)
    tiles.clear_cache()
    entry_inclusion(entry)
    other = hashlib.sha256(b"another log").digest()
    for cache in (tiles._tile_cache, tiles._edge_cache):
        for key in list(cache):
            cache[(other, *key[1:])] = [[bytes(32)] * len(row) for row in cache.pop(key)]
    tiles._log_hint = other
    with statements() as sent:
        inclusion = entry_inclusion(entry)
    assert len(sent()) == 2
    assert inclusion.path == log.inclusion_proof(42, log.size)


@pytest.mark.django_db
def test_level_one_path_tiles_full_and_partial():
    """65,536 + 300 leaves written directly, with checkpoints on both sides of the first level-1 tile:
    the level-1 path tile is read full, or as the roots of the level-0 tiles below it."""
    size = 65536 + 300
    rng = random.Random(2)
    hashes = [hashlib.sha256(rng.randbytes(8)).digest() for _ in range(size)]
    _write_entries(hashes)
    _complete_tiles(0, size)
    assert LedgerTile.objects.filter(level=1).count() == 1
    memory = merkle.MemoryTree(hashes)
    signers = list(keys.signers())
    for n in (65535, 65536, 65537, size):
        compact = b"".join(memory.node(lv, ix) for lv, ix in merkle.compact_range_nodes(n))
        note = sign_note(CheckpointBody(keys.origin(), n, memory.root(n)).text, signers)
        Checkpoint.objects.create(
            tree_size=n,
            root=memory.root(n),
            note=note,
            key_id=signers[0].verifier.id.hex(),
            created_at=timezone.now(),
            compact_range=compact,
        )
    for n in (65535, 65536, 65537, None):
        for seq in {0, 300, 65279, 65280, 65535, 65536, (n or size) - 1}:
            if seq < (n or size):
                _proved(seq, n, memory, count=1)


def _write_entries(hashes: list[bytes]) -> None:
    """Entry rows with the given hashes (and nothing else that a proof reads), written directly."""
    now = timezone.now()
    columns = (
        "seq, entry_id, entry_type, project_key, trace_id, task_id, actor_ref, action_type, oversight, "
        "reversibility, occurred_at, received_at, recorded_at, retention, payload_hash, attribution_gaps, "
        "corrects_entry_id, leaf_bytes, entry_hash, previous_hash, redacted_by"
    )
    fixed = ("action", "", "", "", "model:x", "t", "", "", now, now, now, "P90D", b"", "", "", b"")
    rows = [(i, f"LED-{i:026d}", *fixed, h, hashes[i - 1] if i else bytes(32), "") for i, h in enumerate(hashes)]
    sql = f"INSERT INTO ledger_ledgerentry ({columns}) VALUES ({', '.join(['%s'] * 21)})"  # noqa: S608
    with connection.cursor() as cur:
        cur.executemany(sql, rows)
