"""PostgreSQL's reading path for verification (rows fetched in binary through libpq without the GIL and
built into tuples a slice at a time by the verifying thread, level-0 tiles read ahead a group of chunks
at a time, in line or on a reader thread) reports exactly
what feeding rows read through the ORM one by one reports, for clean and tampered logs, with chunks
and tile groups small enough that every kind of damage sits at or across a boundary."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from accountability.ledger import keys
from accountability.ledger.append import append_entry
from accountability.ledger.models import LedgerEntry, LedgerHead, LedgerTile
from accountability.ledger.offline.merkle import CompactRange, MemoryTree, compact_range_nodes
from accountability.ledger.offline.note import Checkpoint as CheckpointBody
from accountability.ledger.offline.note import sign_note
from accountability.ledger.offline.verifier import LogVerifier
from accountability.ledger.services import verification
from accountability.ledger.services.grants import scope_grant_create
from accountability.ledger.services.retention import ledger_purge
from accountability.ledger.services.verification import ledger_verify

from .conftest import SYSTEM, action_entry, as_dba, stored_checkpoints, stored_rows

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's reading path")

EXPIRED = 40  # seq 2..41: 90-day entries appended 100 days ago, purged
SIZE = 600  # then fresh entries up to seq 598, and the purge record at 599
CHUNK, TILE_CHUNKS = 100, 3  # chunks end at 100, 200, ...; tiles are read ahead at 0, 300
SLICE = 50  # rows are built in slices of 100..149, 150..199, ...: the damage at 150, 151 and 199 too


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(verification, "CHUNK", CHUNK)
    monkeypatch.setattr(verification, "TILE_CHUNKS", TILE_CHUNKS)
    monkeypatch.setattr(verification, "SLICE", SLICE)


def _build_log(project, integrate) -> None:
    """Genesis, grant, expired entries whose payloads a purge record (the last entry) removed, fresh
    entries: two full level-0 tiles and a partial one."""
    with time_machine.travel(timezone.now() - dt.timedelta(days=101)):
        scope_grant_create(actor=SYSTEM, project=project, model_id="claude-opus", action_types=["eligibility.*"])
    with time_machine.travel(timezone.now() - dt.timedelta(days=100)):
        for n in range(EXPIRED):
            append_entry(**action_entry(n))
    for n in range(EXPIRED, SIZE - 3):
        append_entry(**action_entry(n))
    integrate()
    assert ledger_purge(actor=SYSTEM).count == EXPIRED
    integrate()
    assert LedgerHead.objects.get().size == SIZE
    assert LedgerEntry.objects.filter(payload__isnull=True).count() == EXPIRED


def _one_by_one() -> dict:
    """What ``ledger_verify`` must report: rows read through the ORM, fed one at a time, tiles looked
    up through the ORM only."""
    rows = stored_rows()
    checkpoints = stored_checkpoints()
    verifier = LogVerifier(
        origin=keys.origin(),
        verifiers=keys.trusted_verifiers(),
        checkpoints=checkpoints,
        tile_fn=verification._Tiles(),
    )
    for s, leaf, h, p, t in rows:
        verifier.feed(s, leaf, p, t, stored_hash=h)
    head = LedgerHead.objects.get()
    report = verifier.finish(head=(head.size, bytes(head.root)))
    report.fill_entry_ids(lambda seqs: dict(LedgerEntry.objects.filter(seq__in=seqs).values_list("seq", "entry_id")))
    return _comparable(report)


def _comparable(report) -> dict:
    return {k: v for k, v in report.as_dict().items() if k not in ("seconds", "entries_per_second")}


def _tamper(kind: str) -> None:
    """Damage the stored log as a database administrator could."""
    with as_dba() as cur:
        if kind in ("missing", "all"):  # the first row of a chunk
            cur.execute("DELETE FROM ledger_ledgerentry WHERE seq = 300")
        if kind in ("swapped", "all"):  # the last row of one chunk and the first of the next
            cur.execute("UPDATE ledger_ledgerentry SET seq = 1000000 WHERE seq = 199")
            cur.execute("UPDATE ledger_ledgerentry SET seq = 199 WHERE seq = 200")
            cur.execute("UPDATE ledger_ledgerentry SET seq = 200 WHERE seq = 1000000")
        if kind in ("payload", "all"):  # a fresh payload gone without a purge record, at a chunk's end
            cur.execute("UPDATE ledger_ledgerentry SET payload = NULL, payload_salt = NULL WHERE seq = 99")
        if kind in ("salt", "all"):  # the salt alone gone, and a salt one byte short
            cur.execute("UPDATE ledger_ledgerentry SET payload_salt = NULL WHERE seq = 150")
            cur.execute("UPDATE ledger_ledgerentry SET payload_salt = substring(payload_salt from 2) WHERE seq = 151")
        if kind in ("hash", "all"):  # a stored entry hash that is not the leaf's
            cur.execute("UPDATE ledger_ledgerentry SET entry_hash = sha256(entry_hash) WHERE seq = 400")
        if kind in ("tiles", "all"):  # tile 0 (read ahead) altered, tile 1 (read ahead) deleted
            cur.execute(
                "UPDATE ledger_ledgertile SET hashes = overlay(hashes placing '\\x00'::bytea from 100) "
                'WHERE level = 0 AND "index" = 0'
            )
            cur.execute('DELETE FROM ledger_ledgertile WHERE level = 0 AND "index" = 1')


KINDS = ["clean", "missing", "swapped", "payload", "salt", "hash", "tiles", "all"]


def _check(kind: str) -> None:
    _tamper(kind)
    expected = _one_by_one()
    report = _comparable(ledger_verify(actor=SYSTEM).report)
    assert report == expected
    assert report["purged_payloads"] == EXPIRED
    if kind == "clean":
        assert report["ok"]
        assert report["tiles_verified"] == 2
    else:
        assert not report["ok"]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_reading_in_line_reports_what_one_by_one_feeding_reports(project, integrate, small_chunks, kind):
    _build_log(project, integrate)
    assert connection.in_atomic_block  # so ledger_verify reads on this connection, in line
    _check(kind)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["clean", "all"])
def test_the_reader_thread_reports_what_one_by_one_feeding_reports(project, integrate, small_chunks, kind):
    _build_log(project, integrate)
    with transaction.atomic():
        _tamper(kind)
    assert not connection.in_atomic_block  # so ledger_verify reads on a thread of its own
    expected = _one_by_one()
    report = _comparable(ledger_verify(actor=SYSTEM).report)
    assert report == expected
    assert report["ok"] == (kind == "clean")


@pytest.mark.django_db
def test_reading_leaves_the_callers_settings_and_tiles_as_they_were(project, integrate, small_chunks):
    _build_log(project, integrate)
    with connection.cursor() as cur:
        cur.execute("SHOW enable_sort")
        assert cur.fetchone()[0] == "on"
        chunks = list(verification._chunks(0, SIZE))
        cur.execute("SHOW enable_sort")
        assert cur.fetchone()[0] == "on"
    assert [len(rows) for rows, _ in chunks] == [CHUNK] * (SIZE // CHUNK)
    slices = [list(rows) for rows, _ in chunks]
    assert [[len(s) for s in chunk] for chunk in slices] == [[SLICE, SLICE]] * (SIZE // CHUNK)
    assert [row for chunk in slices for rows in chunk for row in rows] == stored_rows()
    assert [sorted(t) if t is not None else None for _, t in chunks] == [[0], None, None, [1], None, None]
    stored = LedgerTile.objects.get(level=0, index=1)
    assert chunks[3][1][1] == (bytes(stored.hashes), bytes(stored.root))


@pytest.mark.django_db
def test_chunks_and_slices_from_an_unaligned_start_end_at_multiples(project, integrate, small_chunks):
    """An incremental run starts anywhere: its first chunk and slice are short, so that every later
    slice starts at a multiple of SLICE (whole tiles for the verifier) and tiles still come a group at a
    time, each tile once."""
    _build_log(project, integrate)
    chunks = list(verification._chunks(130, SIZE))
    assert [len(rows) for rows, _ in chunks] == [70, 100, 100, 100, 100]
    slices = [list(rows) for rows, _ in chunks]
    assert [[len(s) for s in chunk] for chunk in slices] == [[20, 50]] + [[SLICE, SLICE]] * 4
    assert [rows[0][0] for chunk in slices for rows in chunk] == [130, *range(150, SIZE, SLICE)]
    assert [row for chunk in slices for rows in chunk for row in rows] == stored_rows()[130:]
    assert [sorted(t) if t is not None else None for _, t in chunks] == [[0], None, [1], None, None]


START = 130  # an incremental run from a checkpoint inside tile 0, chunk 1 and slice 2


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["clean", "missing", "swapped", "salt", "hash"])
def test_incremental_reading_from_an_unaligned_checkpoint_reports_what_one_by_one_feeding_reports(
    project, integrate, small_chunks, kind
):
    _build_log(project, integrate)
    tree = MemoryTree([h for _, _, h, _, _ in stored_rows()])
    note = sign_note(CheckpointBody(keys.origin(), START, tree.root(START)).text, list(keys.signers()))
    _tamper(kind)  # every kind here damages entries after START only
    checkpoints = {k: v for k, v in stored_checkpoints().items() if k >= START}
    checkpoints.setdefault(START, []).append(note)
    verifier = LogVerifier(
        origin=keys.origin(),
        verifiers=keys.trusted_verifiers(),
        checkpoints=checkpoints,
        tile_fn=verification._Tiles(),
        start_size=START,
        start_range=CompactRange(START, [tree.node(level, i) for level, i in compact_range_nodes(START)]),
        start_prev=tree.node(0, START - 1),
    )
    for s, leaf, h, p, t in stored_rows():
        if s >= START:
            verifier.feed(s, leaf, p, t, stored_hash=h)
    head = LedgerHead.objects.get()
    expected = verifier.finish(head=(head.size, bytes(head.root)))
    expected.fill_entry_ids(lambda seqs: dict(LedgerEntry.objects.filter(seq__in=seqs).values_list("seq", "entry_id")))
    report = ledger_verify(actor=SYSTEM, incremental=True, checkpoint_note=note).report
    assert report.start_size == START
    assert _comparable(report) == _comparable(expected)
    assert report.ok == (kind == "clean")
