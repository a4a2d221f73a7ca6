"""Tamper suite: edit the database directly, as someone with administrator access would. The verifier
names the first bad entry and why; a checkpoint saved outside the database catches a rollback."""

from __future__ import annotations

import hashlib

import pytest

from accountability.ledger.append import append_entry
from accountability.ledger.models import Checkpoint, LedgerEntry, LedgerHead, LedgerTile
from accountability.ledger.offline.merkle import CompactRange
from accountability.ledger.selectors import checkpoint_latest
from accountability.ledger.services.verification import ledger_verify

from .conftest import SYSTEM, action_entry, as_dba, stored_checkpoints, stored_rows

SIZE = 300  # genesis, the grant, 298 actions: one full tile (0..255) and a partial one


@pytest.fixture
def log(project, grant, integrate):
    for n in range(SIZE - 2):
        append_entry(**action_entry(n))
    integrate()
    assert LedgerHead.objects.get().size == SIZE
    saved = checkpoint_latest().note  # the auditor's copy, kept outside the operator's control
    assert ledger_verify(actor=SYSTEM).report.ok
    return {row.seq: row.entry_id for row in LedgerEntry.objects.only("seq", "entry_id")}, saved


def _first(report):
    assert not report.ok
    p = report.first_problem
    return p.seq, p.entry_id, p.reason


def _column(seq: int, name: str) -> bytes:
    return bytes(LedgerEntry.objects.filter(seq=seq).values_list(name, flat=True).get())


@pytest.mark.django_db
def test_a_changed_payload_is_named(log):
    ids, _ = log
    payload = _column(120, "payload").replace(b"Scored application", b"Approved application")
    with as_dba() as cur:
        cur.execute("UPDATE ledger_ledgerentry SET payload = %s WHERE seq = 120", [payload])
    assert _first(ledger_verify(actor=SYSTEM).report) == (120, ids[120], "payload_hash_mismatch")


@pytest.mark.django_db
def test_changed_leaf_bytes_are_named(log):
    ids, _ = log
    leaf = _column(77, "leaf_bytes").replace(b'"oversight":"audit"', b'"oversight":"full"')
    with as_dba() as cur:
        cur.execute("UPDATE ledger_ledgerentry SET leaf_bytes = %s WHERE seq = 77", [leaf])
    report = ledger_verify(actor=SYSTEM).report
    assert _first(report) == (77, ids[77], "leaf_hash_mismatch")
    assert {p.reason for p in report.problems if p.seq == 77} >= {"leaf_hash_mismatch", "chain_break", "tile_mismatch"}


@pytest.mark.django_db
@pytest.mark.parametrize("seq", [100, 290])  # inside the full tile, and in the partial right edge
def test_changed_leaf_bytes_with_a_recomputed_hash_are_named(log, seq):
    ids, _ = log
    leaf = _column(seq, "leaf_bytes").replace(b'"oversight":"audit"', b'"oversight":"full"')
    with as_dba() as cur:
        cur.execute(
            "UPDATE ledger_ledgerentry SET leaf_bytes = %s, entry_hash = %s WHERE seq = %s",
            [leaf, hashlib.sha256(b"\x00" + leaf).digest(), seq],
        )
    seq_, entry_id, reason = _first(ledger_verify(actor=SYSTEM).report)
    assert (seq_, entry_id) == (seq, ids[seq])
    assert reason in {"chain_break", "tile_mismatch"}


@pytest.mark.django_db
def test_a_deleted_row_is_named(log):
    _ids, _ = log
    with as_dba() as cur:
        cur.execute("DELETE FROM ledger_ledgerentry WHERE seq = 150")
    seq, _, reason = _first(ledger_verify(actor=SYSTEM).report)
    assert (seq, reason) == (150, "missing_entry")


@pytest.mark.django_db
def test_two_swapped_rows_are_named(log):
    ids, _ = log
    with as_dba() as cur:
        cur.execute("UPDATE ledger_ledgerentry SET seq = 1000000 WHERE seq = 40")
        cur.execute("UPDATE ledger_ledgerentry SET seq = 40 WHERE seq = 60")
        cur.execute("UPDATE ledger_ledgerentry SET seq = 60 WHERE seq = 1000000")
    assert _first(ledger_verify(actor=SYSTEM).report) == (40, ids[60], "seq_mismatch")


def _roll_back_to(size: int) -> None:
    """What a careful attacker (or a restore from an old backup) leaves behind: rows, tiles and
    checkpoints beyond ``size`` gone, and a head consistent with what remains."""
    with as_dba() as cur:
        cur.execute("DELETE FROM ledger_ledgerentry WHERE seq >= %s", [size])
        cur.execute("DELETE FROM ledger_checkpoint WHERE tree_size > %s", [size])
        for tile in LedgerTile.objects.all():
            if (tile.index + 1) * 256 << (8 * tile.level) > size:
                cur.execute("DELETE FROM ledger_ledgertile WHERE id = %s", [tile.pk])
    rows = list(LedgerEntry.objects.order_by("seq").values_list("entry_hash", "recorded_at"))
    compact = CompactRange()
    compact.extend([bytes(h) for h, _ in rows])
    checkpoint = Checkpoint.objects.order_by("-tree_size").first()
    LedgerHead.objects.filter(pk=1).update(
        size=size,
        root=compact.root(),
        compact_range=compact.to_bytes(),
        last_hash=bytes(rows[-1][0]),
        last_recorded_at=rows[-1][1],
        checkpoint_size=checkpoint.tree_size if checkpoint else -1,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("reappend", [10, 80])  # ends shorter than, then longer than, the saved checkpoint
def test_truncate_and_reappend_is_caught_by_a_saved_checkpoint(log, integrate, reappend):
    _, saved = log
    _roll_back_to(250)
    for n in range(reappend):
        append_entry(**action_entry(1000 + n))
    integrate()
    # The database alone now looks consistent: its own checkpoints were rolled back too...
    assert ledger_verify(actor=SYSTEM).report.ok
    # ...but not to an auditor holding the checkpoint signed at size 300.
    report = ledger_verify(actor=SYSTEM, checkpoint_note=saved).report
    reason = "checkpoint_beyond_log" if 250 + reappend < SIZE else "checkpoint_mismatch"
    seq = 250 + reappend if reason == "checkpoint_beyond_log" else SIZE - 1
    assert _first(report)[::2] == (seq, reason)
    incremental = ledger_verify(actor=SYSTEM, incremental=True, checkpoint_note=saved).report
    assert not incremental.ok


@pytest.mark.django_db
def test_a_restored_backup_is_caught_by_the_databases_own_later_checkpoint(log):
    """Restoring only the entries (not the checkpoint table) leaves signed checkpoints the log no longer
    matches."""
    with as_dba() as cur:
        cur.execute("DELETE FROM ledger_ledgerentry WHERE seq >= 280")
    report = ledger_verify(actor=SYSTEM).report
    assert _first(report)[::2] == (280, "missing_entry")
    assert {p.reason for p in report.problems if p.seq == 280} == {"missing_entry", "checkpoint_beyond_log"}


@pytest.mark.django_db
def test_incremental_verification_from_a_saved_checkpoint(log, integrate):
    _, saved = log
    for n in range(20):
        append_entry(**action_entry(2000 + n))
    integrate()
    report = ledger_verify(actor=SYSTEM, incremental=True, checkpoint_note=saved).report
    assert report.ok
    assert report.start_size == SIZE
    assert report.checked == 20
    with as_dba() as cur:
        cur.execute("UPDATE ledger_ledgerentry SET payload = %s WHERE seq = %s", [b"{}", SIZE + 5])
    report = ledger_verify(actor=SYSTEM, incremental=True, checkpoint_note=saved).report
    assert _first(report)[::2] == (SIZE + 5, "payload_hash_mismatch")


@pytest.mark.django_db
def test_a_forged_checkpoint_is_rejected(log):
    _, saved = log
    forged = saved.replace(saved.split("\n")[1], "999", 1)
    with pytest.raises(Exception, match="trusted checkpoint"):
        ledger_verify(actor=SYSTEM, incremental=True, checkpoint_note=forged)
    report = ledger_verify(actor=SYSTEM, checkpoint_note=forged).report
    assert _first(report)[2] == "checkpoint_invalid"


@pytest.mark.django_db
def test_a_failed_verification_is_recorded_and_alerts(log, mailoutbox):
    with as_dba() as cur:
        cur.execute("DELETE FROM ledger_ledgerentry WHERE seq = 5")
    result = ledger_verify(actor=SYSTEM)
    run = result.run
    assert (run.ok, run.first_bad_seq, run.first_bad_reason) == (False, 5, "missing_entry")
    assert run.chain_integrity < 100


def _reports_by_both_feeds():
    """The same stored rows through ``feed`` one by one and through ``feed_many``."""
    from accountability.ledger import keys
    from accountability.ledger.offline.verifier import LogVerifier
    from accountability.ledger.services.verification import _Tiles

    rows = stored_rows()
    checkpoints = stored_checkpoints()
    reports = []
    for many in (False, True):
        verifier = LogVerifier(
            origin=keys.origin(), verifiers=keys.trusted_verifiers(), checkpoints=checkpoints, tile_fn=_Tiles()
        )
        if many:
            verifier.feed_many(rows[:97])  # in two calls, as chunks arrive
            verifier.feed_many(rows[97:])
        else:
            for s, leaf, h, p, t in rows:
                verifier.feed(s, leaf, p, t, stored_hash=h)
        report = verifier.finish(head=(LedgerHead.objects.get().size, bytes(LedgerHead.objects.get().root)))
        reports.append({k: v for k, v in report.as_dict().items() if k not in ("seconds", "entries_per_second")})
    return reports


@pytest.mark.django_db
def test_batched_feeding_reports_exactly_what_one_by_one_feeding_reports(log):
    by_one, by_many = _reports_by_both_feeds()
    assert by_one == by_many
    assert by_one["ok"]
    payload = _column(120, "payload").replace(b"Scored application", b"Approved application")
    leaf = _column(200, "leaf_bytes").replace(b'"oversight":"audit"', b'"oversight":"full"')
    with as_dba() as cur:
        cur.execute("UPDATE ledger_ledgerentry SET payload = %s WHERE seq = 120", [payload])
        cur.execute(
            "UPDATE ledger_ledgerentry SET leaf_bytes = %s, entry_hash = %s WHERE seq = 200",
            [leaf, hashlib.sha256(b"\x00" + leaf).digest()],
        )
        cur.execute("UPDATE ledger_ledgerentry SET payload = NULL, payload_salt = NULL WHERE seq = 250")
        cur.execute("DELETE FROM ledger_ledgerentry WHERE seq = 150")
        cur.execute("UPDATE ledger_ledgerentry SET seq = 1000000 WHERE seq = 40")
        cur.execute("UPDATE ledger_ledgerentry SET seq = 40 WHERE seq = 60")
        cur.execute("UPDATE ledger_ledgerentry SET seq = 60 WHERE seq = 1000000")
    by_one, by_many = _reports_by_both_feeds()
    assert {p["reason"] for p in by_one["problems"]} >= {"payload_hash_mismatch", "missing_entry", "seq_mismatch"}
    assert by_one == by_many
