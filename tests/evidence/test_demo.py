"""The demo agency's transparency evidence: loaded through the services, a realistic mix of current and
stale evidence, and loading twice changes nothing."""

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accountability.ledger.models import LedgerEntry
from accountability.models import (
    AIUseCase,
    ConfabulationCheck,
    FairnessAssessment,
    FeedbackItem,
    ImpactAssessment,
    ModelCard,
    MonitoringObservation,
    OperatorTraining,
    ProvenanceRecord,
    Waiver,
)
from accountability.selectors import evidence as sel

pytestmark = pytest.mark.django_db
MODELS = (
    ModelCard,
    FairnessAssessment,
    ConfabulationCheck,
    ProvenanceRecord,
    ImpactAssessment,
    Waiver,
    FeedbackItem,
    OperatorTraining,
    MonitoringObservation,
    LedgerEntry,
)


def test_demo_evidence():
    call_command("load_demo", stdout=io.StringIO())
    today = timezone.localdate()
    screener = AIUseCase.objects.get(name="Benefits eligibility pre-screener")
    chatbot = AIUseCase.objects.get(name="Citizen services chatbot")
    assert list(ModelCard.objects.filter(use_case=chatbot).values_list("version", "status")) == [
        (1, "published"),
        (2, "draft"),
    ]
    assert ModelCard.objects.get(use_case=screener).status == "published"
    assert chatbot.vendor_artefacts.artefacts_supplied == 3
    assert sorted(FairnessAssessment.objects.values_list("next_due_on", flat=True))[0] < today  # one is stale
    assert FairnessAssessment.objects.filter(next_due_on__gte=today).count() == 1
    assert ConfabulationCheck.objects.filter(use_case=chatbot, result="pass").count() == 2
    ia = ImpactAssessment.objects.get(use_case=screener)
    assert (ia.status, ia.risk_score, ia.risk_class, ia.use_case_stage_at_acceptance) == (
        "accepted",
        Decimal("70.75"),
        "high",
        "pilot",
    )
    staff = ia.created_by
    report = sel.impact_report(staff, screener)
    assert (report["missing_sections"], report["determination_agrees"], report["completed_before_deployment"]) == (
        [],
        True,
        True,
    )
    assert set(ProvenanceRecord.objects.values_list("chain_status", flat=True)) == {"verified"}
    assert ProvenanceRecord.objects.count() == 5
    assert sel.content_tracing_policy_current(staff, screener.project).tracing_enabled is True
    waiver = Waiver.objects.with_status().get()
    assert (waiver.current_status, waiver.omb_report_overdue) == ("active", False)
    assert MonitoringObservation.objects.filter(within_threshold=False).count() == 1
    overdue = FeedbackItem.objects.filter(status="received", triage_due_at__lt=timezone.now())
    assert overdue.count() == 1
    assert OperatorTraining.objects.filter(expires_on__lt=today).count() == 1

    out = io.StringIO()
    call_command("ai_impact_assessor", "--project-id", "proj-101", "--all", "--json", "--user", "auditor", stdout=out)
    assert json.loads(out.getvalue())["summary"] == {
        "use_cases": 4,
        "high": 1,
        "medium": 0,
        "low": 0,
        "unscored": 3,
        "determination_disagreements": 0,
        "without_accepted_assessment": 3,
    }

    counts = {m: m.objects.count() for m in MODELS}
    out = io.StringIO()
    call_command("load_demo", "--json", stdout=out)
    assert json.loads(out.getvalue())["created"] is False
    assert counts == {m: m.objects.count() for m in MODELS}
