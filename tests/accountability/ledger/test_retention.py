"""Retention: after expiry a purge NULLs payload and salt and records itself, and verification still
passes; before expiry a purge is refused, by the service and (PostgreSQL) by a trigger."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accountability.exceptions import Conflict, NotAllowed
from accountability.ledger.append import append_entry
from accountability.ledger.models import LedgerEntry
from accountability.ledger.offline.formats import PURGE_ACTION
from accountability.ledger.services.entries import correction_record
from accountability.ledger.services.grants import scope_grant_create
from accountability.ledger.services.retention import ledger_purge
from accountability.ledger.services.verification import ledger_verify

from .conftest import SYSTEM, action_entry, as_dba


@pytest.fixture
def aged(project, integrate):
    """Two actions from 100 days ago (expired: 90-day retention) and one from today, all in scope."""
    with time_machine.travel(timezone.now() - dt.timedelta(days=101)):
        scope_grant_create(actor=SYSTEM, project=project, model_id="claude-opus", action_types=["eligibility.*"])
    with time_machine.travel(timezone.now() - dt.timedelta(days=100)):
        old = [append_entry(**action_entry(n)).entry_id for n in range(2)]
    fresh = append_entry(**action_entry(9)).entry_id
    integrate()
    return old, fresh


@pytest.mark.django_db
def test_a_purge_after_expiry_keeps_the_ledger_verifiable(aged, integrate, ledger_count):
    old, fresh = aged
    leaves = {e: bytes(LedgerEntry.objects.get(entry_id=e).leaf_bytes) for e in old}
    before = ledger_count()
    result = ledger_purge(actor=SYSTEM)
    integrate()
    assert result.count == 2
    assert ledger_count() == before + 1
    for entry_id in old:
        row = LedgerEntry.objects.get(entry_id=entry_id)
        assert (row.payload, row.payload_salt) == (None, None)
        assert row.redacted_by == result.record_entry_id
        assert row.redacted_at is not None
        assert bytes(row.leaf_bytes) == leaves[entry_id]  # the leaf, and so the tree, is untouched
    assert LedgerEntry.objects.get(entry_id=fresh).payload is not None
    record = LedgerEntry.objects.get(entry_id=result.record_entry_id)
    purge = record.document["context"]["purge"]
    assert record.entry_type == "governance"
    assert record.action_type == PURGE_ACTION
    seqs = sorted(LedgerEntry.objects.get(entry_id=e).seq for e in old)
    assert purge["count"] == 2
    assert purge["seq_ranges"] == [[seqs[0], seqs[1]]]
    report = ledger_verify(actor=SYSTEM).report
    assert report.ok, report.problems
    assert report.purged == 2
    assert ledger_purge(actor=SYSTEM).count == 0  # idempotent


@pytest.mark.django_db
def test_a_purge_before_expiry_is_refused(aged, ledger_count):
    old, fresh = aged
    before = ledger_count()
    with pytest.raises(Conflict, match="has not expired"):
        ledger_purge(actor=SYSTEM, entry_ids=[old[0], fresh])
    assert ledger_count() == before
    assert LedgerEntry.objects.get(entry_id=old[0]).payload is not None  # nothing was purged
    genesis = LedgerEntry.objects.get(seq=0).entry_id
    with pytest.raises(Conflict, match="permanent"):
        ledger_purge(actor=SYSTEM, entry_ids=[genesis])


@pytest.mark.django_db
def test_only_the_job_and_superusers_purge(aged, staff_user):
    with pytest.raises(NotAllowed):
        ledger_purge(actor=staff_user)


@pytest.mark.django_db
def test_the_database_refuses_an_early_purge_and_any_other_change(aged):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only triggers exist on PostgreSQL")
    old, fresh = aged
    early = LedgerEntry.objects.filter(entry_id=fresh)
    with pytest.raises(DatabaseError, match="not expired"), transaction.atomic():
        early.update(payload=None, payload_salt=None, redacted_at=timezone.now(), redacted_by="LED-X")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(entry_id=old[0]).update(action_type="edited")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(entry_id=old[0]).delete()
    # An expired payload may be purged (this is what the service does).
    LedgerEntry.objects.filter(entry_id=old[0]).update(
        payload=None, payload_salt=None, redacted_at=timezone.now(), redacted_by="LED-X"
    )


@pytest.mark.django_db
def test_a_payload_gone_without_a_purge_record_is_named(aged):
    _old, fresh = aged
    with as_dba() as cur:
        cur.execute("UPDATE ledger_ledgerentry SET payload = NULL, payload_salt = NULL WHERE entry_id = %s", [fresh])
    report = ledger_verify(actor=SYSTEM).report
    assert not report.ok
    first = report.first_problem
    assert (first.entry_id, first.reason) == (fresh, "payload_missing")


@pytest.mark.django_db
def test_a_purged_entry_can_only_be_retracted(aged, staff_user, integrate):
    old, _ = aged
    ledger_purge(actor=SYSTEM)
    integrate()
    with pytest.raises(Conflict, match="purged"):
        correction_record(actor=staff_user, corrects=old[0], reason="r", amendments={"action.rationale": "x"})
    assert correction_record(actor=staff_user, corrects=old[0], reason="logged twice", retract=True).entry_id


@pytest.mark.django_db
def test_verification_right_after_a_purge_accepts_a_queued_purge_record(aged):
    """On PostgreSQL the purge record waits for the integrator while the payloads are already gone."""
    result = ledger_purge(actor=SYSTEM)
    report = ledger_verify(actor=SYSTEM).report
    assert report.ok, report.problems
    assert report.purged == result.count == 2
