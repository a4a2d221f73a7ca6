"""The demo loads its appeals and ethics reviews through the services, deploys the high-impact screener
only after its approving review, and stays idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

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
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert (Appeal.objects.count(), EthicsReview.objects.count(), RubricScore.objects.count()) == counts
