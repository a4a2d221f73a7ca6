"""The demo loads its appeals and ethics reviews through the services, deploys the high-impact screener
only after its approving review, and stays idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accountability.ledger.selectors import decision_entry_for_trace
from accountability.management.commands._demo_workflows import TRACE_IDS
from accountability.models import AIUseCase, Appeal, EthicsReview, RubricScore

pytestmark = pytest.mark.django_db


def test_load_demo_runs_the_workflows_and_is_idempotent():
    call_command("load_demo", stdout=StringIO())
    counts = (Appeal.objects.count(), EthicsReview.objects.count(), RubricScore.objects.count())
    assert counts == (5, 3, 8)
    assert sorted(Appeal.objects.values_list("status", "outcome")) == [
        ("escalated", ""),
        ("resolved", "upheld"),
        ("resolved", "withdrawn"),
        ("submitted", ""),
        ("under_review", ""),
    ]
    screener_review = EthicsReview.objects.get(use_case__name="Benefits eligibility pre-screener")
    assert (screener_review.status, screener_review.version, screener_review.decision) == (
        "completed",
        2,
        "approve_with_conditions",
    )
    assert AIUseCase.objects.get(name="Benefits eligibility pre-screener").stage == "deployed"
    assert sorted(EthicsReview.objects.values_list("status", flat=True)) == ["completed", "in_progress", "pending"]
    # The first appeal contests the AI decision the demo ledger recorded: linked, with its overseer as
    # a decision taker (so the demo's reviewer may not review it); the other trace ids have no entry.
    contested = Appeal.objects.get(decision_trace_id=TRACE_IDS[0])
    decision = decision_entry_for_trace(TRACE_IDS[0], "proj-101")
    assert (contested.decision_entry_id, decision.entry_type) == (decision.entry_id, "decision")
    assert [u.username for u in contested.decision_takers.all()] == ["reviewer"]
    assert set(Appeal.objects.exclude(pk=contested.pk).values_list("decision_entry_id", flat=True)) == {""}
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert (Appeal.objects.count(), EthicsReview.objects.count(), RubricScore.objects.count()) == counts
