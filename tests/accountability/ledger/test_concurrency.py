"""Concurrency on PostgreSQL: writers never wait for each other (pending table), one integrator
sequences them, and the database refuses a fork even if two integrators ran at once."""

from __future__ import annotations

import pytest
from django.db import connection, connections

from accountability.ledger.append import append_entry
from accountability.ledger.models import LedgerEntry, LedgerHead, PendingEntry
from accountability.ledger.services.grants import scope_grant_create
from accountability.ledger.services.integration import integrate_pending
from accountability.ledger.services.verification import ledger_verify
from accountability.ledger.store import INTEGRATOR_LOCK, integrate_batch
from accountability.models import Project

from .conftest import SYSTEM, action_entry, write_concurrently

WRITERS, APPENDS = 8, 500


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_writers_make_one_gap_free_chain():
    project = Project.objects.create(key="proj-123", name="Concurrency", organization="Test")
    scope_grant_create(actor=SYSTEM, project=project, model_id="claude-opus", action_types=["eligibility.*"])
    ids = write_concurrently(WRITERS, APPENDS)
    integrate_pending(actor=SYSTEM)

    assert PendingEntry.objects.count() == 0
    total = WRITERS * APPENDS + 1  # and the grant's governance entry
    seqs = list(LedgerEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(total + 1))  # gap-free, genesis at 0
    assert set(LedgerEntry.objects.filter(entry_type="action").values_list("entry_id", flat=True)) == set(ids)
    assert len(ids) == WRITERS * APPENDS
    prev = list(LedgerEntry.objects.order_by("seq").values_list("previous_hash", "entry_hash"))
    assert all(bytes(prev[i][0]) == bytes(prev[i - 1][1]) for i in range(1, len(prev)))  # one chain
    assert LedgerHead.objects.get().size == total + 1
    report = ledger_verify(actor=SYSTEM).report
    assert report.ok, report.problems
    assert report.checked == total + 1
    assert report.tiles_verified == (total + 1) // 256


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_integrator_waits_its_turn():
    Project.objects.create(key="proj-123", name="Concurrency", organization="Test")
    append_entry(**action_entry(1, actor={"kind": "system", "id": "test:runner"}))

    other = connections.create_connection("default")
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [INTEGRATOR_LOCK])
        assert integrate_batch() is None  # the lock is taken: this integrator does nothing
        assert PendingEntry.objects.count() == 1
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [INTEGRATOR_LOCK])
        assert integrate_batch() == 1
    finally:
        other.close()
    assert connection.vendor == "postgresql"
