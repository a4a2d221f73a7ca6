"""The verifier's batched path (``feed_many``: inlined checks, whole tiles hashed at once) reports exactly
what feeding entries one by one reports, across tile boundaries, checkpoints inside and at the edges of
tiles, any split into chunks, and tampered tiles and checkpoints."""

from __future__ import annotations

import pytest

from accountability.ledger import keys
from accountability.ledger.append import append_entry
from accountability.ledger.models import LedgerHead
from accountability.ledger.offline.merkle import MemoryTree
from accountability.ledger.offline.note import Checkpoint as CheckpointBody
from accountability.ledger.offline.note import sign_note
from accountability.ledger.offline.verifier import LogVerifier
from accountability.ledger.services.verification import _Tiles

from .conftest import action_entry, stored_rows

SIZE = 600  # two full level-0 tiles (0..511) and a partial one
SIZES = [1, 2, 255, 256, 257, 300, 511, 512, 513, SIZE]  # signed checkpoints, in and around tiles


@pytest.fixture
def rows(project, grant, integrate):
    for n in range(SIZE - 2):  # the genesis and the grant are the first two entries
        append_entry(**action_entry(n))
    integrate()
    assert LedgerHead.objects.get().size == SIZE
    return stored_rows()


def _notes(rows, roots: dict[int, bytes] | None = None) -> dict[int, list[str]]:
    """Checkpoints signed with the log's key at every size in SIZES (``roots`` overrides some)."""
    tree = MemoryTree([h for _, _, h, _, _ in rows])
    roots = roots or {}
    signers = list(keys.signers())
    return {n: [sign_note(CheckpointBody(keys.origin(), n, roots.get(n, tree.root(n))).text, signers)] for n in SIZES}


def _report(rows, chunks: list[int] | None, checkpoints, tile_fn) -> dict:
    """Feed ``rows`` one by one (``chunks`` None) or through ``feed_many`` split at ``chunks``."""
    verifier = LogVerifier(
        origin=keys.origin(), verifiers=keys.trusted_verifiers(), checkpoints=checkpoints, tile_fn=tile_fn
    )
    if chunks is None:
        for s, leaf, h, p, t in rows:
            verifier.feed(s, leaf, p, t, stored_hash=h)
    else:
        for lo, hi in zip([0, *chunks], [*chunks, len(rows)], strict=True):
            verifier.feed_many(rows[lo:hi])
    head = LedgerHead.objects.get()
    report = verifier.finish(head=(head.size, bytes(head.root)))
    return {k: v for k, v in report.as_dict().items() if k not in ("seconds", "entries_per_second")}


SPLITS = [[], [97], [256, 512], [1, 255, 257, 511, 513], list(range(1, SIZE))]


@pytest.mark.django_db
def test_a_clean_log_checks_every_tile_and_checkpoint_in_any_split(rows):
    checkpoints = _notes(rows)
    by_one = _report(rows, None, checkpoints, _Tiles())
    assert by_one["ok"]
    assert (by_one["checked"], by_one["tiles_verified"], by_one["checkpoints_verified"]) == (SIZE, 2, len(SIZES))
    for chunks in SPLITS:
        assert _report(rows, chunks, checkpoints, _Tiles()) == by_one, chunks


def _tampered_tiles(index: int, *, hashes: bool):
    """Stored tiles with tile 0/``index`` altered: one of its hashes, or its root."""
    stored = _Tiles()

    def tile_fn(level: int, i: int):
        found = stored(level, i)
        if found is None or (level, i) != (0, index):
            return found
        data, root = found
        if hashes:
            return data[:64] + bytes(32) + data[96:], root
        return data, bytes(32)

    return tile_fn


@pytest.mark.django_db
@pytest.mark.parametrize(("index", "hashes", "seq"), [(0, True, 2), (1, True, 258), (0, False, 0), (1, False, 256)])
def test_a_tampered_tile_is_named_in_any_split(rows, index, hashes, seq):
    checkpoints = _notes(rows)
    by_one = _report(rows, None, checkpoints, _tampered_tiles(index, hashes=hashes))
    assert [(p["seq"], p["reason"]) for p in by_one["problems"]] == [(seq, "tile_mismatch")]
    for chunks in SPLITS:
        assert _report(rows, chunks, checkpoints, _tampered_tiles(index, hashes=hashes)) == by_one, chunks


@pytest.mark.django_db
@pytest.mark.parametrize("size", [255, 256, 300, 512])
def test_a_checkpoint_with_another_root_is_named_in_any_split(rows, size):
    checkpoints = _notes(rows, roots={size: bytes(32)})
    by_one = _report(rows, None, checkpoints, _Tiles())
    assert [(p["seq"], p["reason"]) for p in by_one["problems"]] == [(size - 1, "checkpoint_mismatch")]
    assert by_one["checkpoints_verified"] == len(SIZES) - 1
    for chunks in SPLITS:
        assert _report(rows, chunks, checkpoints, _Tiles()) == by_one, chunks


@pytest.mark.django_db
def test_a_leaf_whose_prev_does_not_follow_payload_hash_takes_the_full_path(rows):
    """The batched path checks "payload_hash" and "prev" with one search (sorted keys make them
    neighbours); a leaf laid out otherwise is left to ``feed``, which still finds both fields."""
    seq, leaf, _, payload, salt = rows[300]
    moved = leaf.replace(b',"prev":', b',"pad":"","prev":')  # not canonical, but every field is still there
    changed = [*rows[:300], (seq, moved, None, payload, salt), *rows[301:]]
    checkpoints = _notes(rows)
    by_one = _report(changed, None, checkpoints, _Tiles())
    # Its own fields check out (no payload_hash_mismatch, no chain break into it); the next leaf's prev
    # names the original leaf's hash, so the break is pinned on seq 300, whose hash the tile disagrees with.
    early = {(p["seq"], p["reason"]) for p in by_one["problems"] if p["seq"] <= 300}
    assert early == {(300, "chain_break"), (300, "tile_mismatch")}
    reasons = {p["reason"] for p in by_one["problems"]}
    assert reasons == {"chain_break", "tile_mismatch", "checkpoint_mismatch", "head_mismatch"}
    for chunks in SPLITS:
        assert _report(changed, chunks, checkpoints, _Tiles()) == by_one, chunks


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        # an "=" before "payload_hash" misplaces where the batched path looks for it: it searches instead
        ([(b'"links":[]', b'"links":["="]')], None),
        # "log" further from "payload_hash" than in the leaf before: it is searched for up to there
        ([(b'"oversight":"audit"', b'"oversight":"auditor"')], None),
        # "log" naming another log, where the previous leaf's distance would have found it
        ([(b'"log":"', b'"log":"x')], "origin_mismatch"),
        # "prev" and "payload_hash" where the first "=" says, but not the leaf's
        ([(b'"payload_hash":"', b'"payload_hash":"A')], "payload_hash_mismatch"),
        # "payload_hash" further before "seq" than in the leaf before: found by the first "=" instead
        ([(b'"project":"', b'"project":"xyz')], None),
        # ... and an "=" before it as well: found only by searching the whole leaf
        ([(b'"project":"', b'"project":"xyz'), (b'"links":[]', b'"links":["="]')], None),
        # ... and a payload hash that is not the payload's, where neither place would have found it
        ([(b'"project":"', b'"project":"xyz'), (b'"payload_hash":"', b'"payload_hash":"A')], "payload_hash_mismatch"),
        # "seq" where the leaf ends: no type byte to read after it
        ([(b'"type":"action","v":1}', b'"type":"')], None),
        # a type starting with "g" that is not "governance": the purge test runs, and finds no purge
        ([(b'"type":"action"', b'"type":"gaction"')], None),
    ],
)
def test_a_leaf_the_batched_path_cannot_place_reports_what_feed_reports(rows, changes, reason):
    """The batched path finds "payload_hash" and "log" by position where it can; anything else is
    searched for, or left to ``feed``, so every leaf is judged as ``feed`` judges it."""
    seq, leaf, _, payload, salt = rows[300]
    for old, new in changes:
        assert old in leaf
        leaf = leaf.replace(old, new, 1)
    changed = [*rows[:300], (seq, leaf, None, payload, salt), *rows[301:]]
    checkpoints = _notes(rows)
    by_one = _report(changed, None, checkpoints, _Tiles())
    reasons = {p["reason"] for p in by_one["problems"] if p["seq"] == 300}
    # the leaf's hash changed, so the next entry's prev no longer names it
    assert reasons == {"chain_break", "tile_mismatch"} | ({reason} if reason else set())
    for chunks in SPLITS:
        assert _report(changed, chunks, checkpoints, _Tiles()) == by_one, chunks
