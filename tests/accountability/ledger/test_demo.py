"""load_demo's ledger: the demo AI records, the violation the invitation check finds, its
investigation and a correction, all integrated under a signed checkpoint that verifies; re-running
appends nothing, and a demo database loaded before the ledger existed gets the demo ledger once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accountability.actors import SystemActor
from accountability.ledger.demo import DECISION_TRACE_ID, has_demo_ledger
from accountability.ledger.models import LedgerEntry, ModelKey, PendingEntry, ScopeGrant
from accountability.ledger.selectors import appended_count, checkpoint_latest, corrections_of, decision_entry_for_trace
from accountability.ledger.services.verification import ledger_verify
from accountability.models import Project
from tests.ledger_reads import integrated

pytestmark = pytest.mark.django_db
VERIFIER = SystemActor("cli:test")


def test_the_demo_ledger_is_integrated_checkpointed_and_verifies():
    call_command("load_demo", stdout=StringIO())
    assert not PendingEntry.objects.exists()
    assert checkpoint_latest().tree_size == LedgerEntry.objects.count()
    decision = decision_entry_for_trace(DECISION_TRACE_ID, "proj-101")
    assert decision.is_integrated
    assert decision.seq > 0
    assert len(corrections_of(decision.entry_id)) == 1
    violation = integrated(entry_type="violation", project_key="proj-101").get()
    assert "codex.invitation" in violation.document["action"]["description"]
    assert "data.export" in violation.document["action"]["description"]
    assert ledger_verify(actor=VERIFIER).report.ok
    # The review bot's code review carries its signature, which checks out against its registered key.
    review = integrated(actor_ref="model:review-bot").get()
    assert review.document["integrity"]["signatures"][0]["kid"] == ModelKey.objects.get(model_id="review-bot").kid
    checked = ledger_verify(actor=VERIFIER, model_signatures=True).report
    assert (checked.ok, checked.model_signatures) == (True, 1)

    size, head = appended_count(), checkpoint_latest().tree_size
    call_command("load_demo", stdout=StringIO())
    assert (appended_count(), checkpoint_latest().tree_size) == (size, head)


def test_a_demo_database_from_before_the_ledger_gets_the_demo_ledger_once(monkeypatch):
    monkeypatch.setattr("accountability.management.commands.load_demo.load_demo_ledger", lambda **kw: None)
    call_command("load_demo", stdout=StringIO())  # as loaded before issue 3: no demo ledger
    project = Project.objects.get(key="proj-101")
    assert not has_demo_ledger(project)
    monkeypatch.undo()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "Demo data loaded." in out.getvalue()
    assert has_demo_ledger(project)
    assert ScopeGrant.objects.filter(project=project, model_id="claude-opus").count() == 1
    assert not PendingEntry.objects.exists()
    size = appended_count()
    call_command("load_demo", stdout=StringIO())
    assert appended_count() == size
