"""Appends that are a transaction of their own (PostgreSQL, no transaction open) go in one guarded,
autocommitted statement; whenever the grants differ from the prediction or a policy check fails, the
entry takes the general path, so the outcome (entry, violations, atomicity) is the same. And the
integrator moves pending rows into the log on the server: every column arrives unchanged."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from accountability.exceptions import Conflict
from accountability.ledger import alone, append, store
from accountability.ledger.append import append_entry, record_governance
from accountability.ledger.models import LedgerEntry, PendingEntry
from accountability.ledger.services.grants import scope_grant_create, scope_grant_revoke
from accountability.ledger.services.integration import integrate_pending
from accountability.ledger.services.verification import ledger_verify
from accountability.ledger.store import ENTRY_COLUMNS
from accountability.models import Project

from .conftest import SYSTEM, action_entry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def calls(monkeypatch):
    """Which way each append went: the statements ``alone`` ran, and general-path appends."""
    seen = {"alone": [], "general": 0}
    run, general = alone._send, append._append_checked

    def spy_send(db, sql, values, formats, fetch=""):
        seen["alone"].append("guarded" if sql.startswith("WITH live") else "plain")
        return run(db, sql, values, formats, fetch)

    def spy_general(*args):
        seen["general"] += 1
        return general(*args)

    monkeypatch.setattr(alone, "_send", spy_send)
    monkeypatch.setattr(append, "_append_checked", spy_general)
    alone.forget_predictions()
    yield seen
    alone.forget_predictions()


@pytest.fixture
def project():
    return Project.objects.create(key="proj-123", name="Alone", organization="Test")


@pytest.fixture
def grant(project):
    return scope_grant_create(actor=SYSTEM, project=project, model_id="claude-opus", action_types=["eligibility.*"])


def _stored(entry_id: str) -> int:
    pending = PendingEntry.objects.filter(entry_id=entry_id).count()
    return pending + LedgerEntry.objects.filter(entry_id=entry_id).count()


def test_an_append_on_its_own_is_one_guarded_statement_once_the_grants_are_known(project, grant, calls):
    first = append_entry(**action_entry(1))
    assert calls["alone"] == ["guarded", "guarded"]  # a probe learns the grants, the second stores
    second = append_entry(**action_entry(2))
    assert calls["alone"] == ["guarded", "guarded", "guarded"]
    assert calls["general"] == 0
    assert (first.violations, second.violations, first.seq, second.seq) == ([], [], None, None)
    assert [_stored(first.entry_id), _stored(second.entry_id)] == [1, 1]
    assert PendingEntry.objects.filter(entry_type="violation").count() == 0
    integrate_pending()
    assert ledger_verify(actor=SYSTEM).report.ok


def test_a_grant_revoked_after_it_was_predicted_sends_the_append_down_the_general_path(project, grant, calls):
    append_entry(**action_entry(1))
    scope_grant_revoke(actor=SYSTEM, grant=grant, reason="pilot over")
    result = append_entry(**action_entry(2))
    # The stale prediction's guard stored nothing; the live grants say no: the general path records
    # the action and its violation together.
    assert calls["alone"] == ["guarded", "guarded", "guarded"]
    # the revocation's own Governance entry (inside its service's transaction), the action, and the
    # violation it appends inside the same transaction
    assert calls["general"] == 3
    assert _stored(result.entry_id) == 1
    assert len(result.violations) == 1
    violation = PendingEntry.objects.get(entry_id=result.violations[0])
    assert (violation.entry_type, violation.project_key) == ("violation", "proj-123")


def test_a_grant_given_after_a_violation_is_picked_up_by_the_next_append(project, calls):
    refused = append_entry(**action_entry(1))
    assert len(refused.violations) == 1
    scope_grant_create(actor=SYSTEM, project=project, model_id="claude-opus", action_types=["eligibility.*"])
    calls["alone"].clear()
    calls["general"] = 0
    allowed = append_entry(**action_entry(2))
    assert allowed.violations == []
    assert calls["alone"] == ["guarded", "guarded"]  # the probe saw the new grant, the retry stored
    assert calls["general"] == 0
    assert _stored(allowed.entry_id) == 1


def test_a_failed_consent_check_never_takes_the_short_path(project, grant, calls):
    unapproved = action_entry(1, accountability={"human_oversight": "full", "reversibility": "reversible"})
    unapproved["action"]["inputs"] = ["case file"]
    unapproved["action"]["outputs"] = ["score"]
    result = append_entry(**unapproved)
    assert calls["alone"] == []
    assert len(result.violations) == 1
    assert "approver" in bytes(PendingEntry.objects.get(entry_id=result.violations[0]).payload).decode()


def test_inside_a_transaction_the_general_path_keeps_the_entry_with_the_callers_change(project, grant, calls):
    entry = None

    def change_that_fails():
        nonlocal entry
        with transaction.atomic():
            entry = append_entry(**action_entry(1))
            raise RuntimeError("the caller's change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert calls["alone"] == []
    assert _stored(entry.entry_id) == 0


def test_a_governance_record_outside_a_transaction_is_one_plain_insert(project, calls):
    result = record_governance(actor=SYSTEM, project=project, action_type="plan.approve", description="Approved")
    assert calls["alone"] == ["plain"]
    assert calls["general"] == 0
    assert PendingEntry.objects.get(entry_id=result.entry_id).entry_type == "governance"


def test_integration_moves_every_column_of_the_pending_rows_unchanged(project, grant):
    ids = [append_entry(**action_entry(n)).entry_id for n in range(3)]
    ids.append(record_governance(actor=SYSTEM, project=project, action_type="plan.approve", description="x").entry_id)
    before = {row["entry_id"]: row for row in PendingEntry.objects.filter(entry_id__in=ids).values(*ENTRY_COLUMNS)}
    integrate_pending()
    after = LedgerEntry.objects.filter(entry_id__in=ids).order_by("seq")
    assert [e.entry_id for e in after] == ids  # sequenced in queue order
    for entry in after:
        assert {c: getattr(entry, c) for c in ENTRY_COLUMNS} == before[entry.entry_id]
        assert (entry.redacted_at, entry.redacted_by) == (None, "")
    assert not PendingEntry.objects.filter(entry_id__in=ids).exists()
    assert ledger_verify(actor=SYSTEM).report.ok


def test_a_pending_row_that_does_not_arrive_fails_the_whole_batch(project, grant, monkeypatch):
    append_entry(**action_entry(1))
    queued = PendingEntry.objects.count()  # the grant's Governance entry and the action
    fetch = store._fetch_pending

    def with_a_phantom(limit):
        rows = fetch(limit)
        phantom = store._Pending([rows[-1].id + 10_000, *[getattr(rows[-1], c) for c in store._LEAF_SOURCE[1:]]])
        phantom.entry_id = "LED-01J00000000000000000000000"
        return [*rows, phantom]

    monkeypatch.setattr(store, "_fetch_pending", with_a_phantom)
    with pytest.raises(Conflict, match=f"moved {queued} of {queued + 1} pending entries"):
        store.integrate_batch()
    assert LedgerEntry.objects.count() == 0  # not even the genesis entry
    assert PendingEntry.objects.count() == queued
    with connection.cursor() as cur:  # the batch rolled back: the head has not moved either
        cur.execute("SELECT count(*) FROM ledger_ledgerhead WHERE size > 0")
        assert cur.fetchone()[0] == 0
