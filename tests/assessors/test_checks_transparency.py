"""OMB M-26-04, NIST AI 600-1 and GAO-21-519SP checks: pass, partial, fail and not_applicable."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from accountability.models import MonitoringObservation, ProvenanceRecord
from tests.evidence.factories import (
    ConfabulationCheckFactory,
    ContentTracingPolicyFactory,
    FairnessAssessmentFactory,
    FairnessMetricFactory,
    FeedbackChannelFactory,
    ModelCardFactory,
    MonitoringPlanFactory,
    VendorArtefactsFactory,
)
from tests.factories import CAIODesignationFactory, PlanVersionFactory, ProjectFactory, UseCaseFactory
from tests.incidents.factories import IncidentFactory

from .helpers import NOW, OPERATING, TODAY, days_ago, failing_ids, result_of, status_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
URLS = {
    "acceptable_use_policy_url": "https://vendor.example.com/aup",
    "model_card_url": "https://vendor.example.com/card",
    "end_user_resources_url": "https://vendor.example.com/help",
    "feedback_mechanism_url": "https://vendor.example.com/report",
}


def llm(project, **kwargs):
    return UseCaseFactory(project=project, is_llm_procured=True, is_generative=True, stage="pilot", **kwargs)


def generative(project, stage="pilot", **kwargs):
    return UseCaseFactory(project=project, is_generative=True, stage=stage, **{**OPERATING, **kwargs})


def active_plan(use_case=None, project=None, **kwargs):
    project = project or use_case.project
    return PlanVersionFactory(plan__project=project, plan__use_case=use_case, status="active", **kwargs)


# --- M2604-VND-01 (M26-001): vendor artefacts (4/4 pass, 2–3 partial) -----------------------------------------


def test_vnd01_passes_with_all_four_artefacts(project):
    VendorArtefactsFactory(use_case=llm(project), **URLS)
    result = result_of(project, "M26-001")
    assert (result.check.id, result.status) == ("M2604-VND-01", "pass")


def test_vnd01_is_partial_with_two_artefacts(project):
    VendorArtefactsFactory(use_case=llm(project))  # policy and card only
    result = result_of(project, "M2604-VND-01")
    assert result.status == "partial"
    assert result.failing[0]["reason"] == (
        "vendor artefacts record lacks end_user_resources_url, feedback_mechanism_url"
    )


def test_vnd01_fails_with_one_artefact_or_no_record(project):
    VendorArtefactsFactory(use_case=llm(project), model_card_url="")
    llm(project)
    result = result_of(project, "M2604-VND-01")
    assert result.status == "fail"
    assert sorted(f["reason"] for f in result.failing) == [
        "no vendor artefacts record",
        "vendor artefacts record lacks model_card_url, end_user_resources_url, feedback_mechanism_url",
    ]


def test_vnd01_is_not_applicable_after_the_memo_sunsets(project, clock):
    llm(project)
    clock.move_to(dt.datetime(2027, 12, 12, 14, 0, tzinfo=dt.UTC))
    result = result_of(project, "M2604-VND-01")
    assert (result.status, result.summary) == ("not_applicable", "Not applicable: OMB M-26-04 sunset on 2027-12-11.")


def test_vnd01_is_not_applicable_without_procured_llms_or_outside_federal_agencies(project, db):
    UseCaseFactory(project=project)
    assert status_of(project, "M2604-VND-01") == "not_applicable"
    other = ProjectFactory(is_federal_agency=False)
    llm(other)
    assert status_of(other, "M2604-VND-01") == "not_applicable"


# --- M2604-VND-04: embedded LLMs (pass 100 %, partial >= 50 %) ---------------------------------------------------


def test_vnd04_pass_partial_fail_and_not_applicable(project):
    assert status_of(project, "M2604-VND-04") == "not_applicable"
    VendorArtefactsFactory(use_case=llm(project), is_embedded_llm=True, development_info_url="https://v.example/dev")
    assert status_of(project, "M2604-VND-04") == "pass"
    missing = VendorArtefactsFactory(use_case=llm(project), is_embedded_llm=True)
    result = result_of(project, "M2604-VND-04")
    assert (result.status, failing_ids(result)) == ("partial", [missing.public_id])
    VendorArtefactsFactory(use_case=llm(project), is_embedded_llm=True)
    assert status_of(project, "M2604-VND-04") == "fail"


# --- M2604-POL-01: internal channel for violating outputs (fail is partial before 11 Mar 2026) ---------------


def test_pol01_passes_with_an_active_internal_channel(project):
    FeedbackChannelFactory(use_case=llm(project), audience="internal")
    assert status_of(project, "M2604-POL-01") == "pass"


def test_pol01_fails_without_one_after_the_deadline_and_is_partial_before(project, clock):
    FeedbackChannelFactory(use_case=llm(project), audience="public")
    assert status_of(project, "M2604-POL-01") == "fail"
    clock.move_to(dt.datetime(2026, 2, 1, 14, 0, tzinfo=dt.UTC))
    assert status_of(project, "M2604-POL-01") == "partial"


def test_pol01_is_not_applicable_without_procured_llms(project):
    FeedbackChannelFactory(use_case=UseCaseFactory(project=project), audience="internal")
    assert status_of(project, "M2604-POL-01") == "not_applicable"


# --- AI6001-CNF-01 (AI600-001): confabulation checks in the last 30 days -------------------------------------


def test_cnf01_passes_when_every_generative_use_case_was_checked_recently(project):
    ConfabulationCheckFactory(use_case=generative(project), checked_on=days_ago(30))
    assert status_of(project, "AI600-001") == "pass"


def test_cnf01_is_partial_when_only_some_are_checked_or_checks_are_stale(project):
    ConfabulationCheckFactory(use_case=generative(project), checked_on=days_ago(2))
    generative(project, stage="deployed")
    assert status_of(project, "AI6001-CNF-01") == "partial"


def test_cnf01_fails_when_only_retracted_checks_exist(project):
    ConfabulationCheckFactory(
        use_case=generative(project), checked_on=days_ago(2), status="retracted", retraction_reason="Wrong sample"
    )
    result = result_of(project, "AI6001-CNF-01")
    assert (result.status, result.failing[0]["reason"]) == ("fail", "no confabulation check (not retracted)")


def test_cnf01_a_stale_check_alone_is_partial(project):
    ConfabulationCheckFactory(use_case=generative(project), checked_on=days_ago(31))
    assert status_of(project, "AI6001-CNF-01") == "partial"


def test_cnf01_is_not_applicable_without_operating_generative_use_cases(project):
    generative(project, stage="pre_deployment")
    assert status_of(project, "AI6001-CNF-01") == "not_applicable"


# --- AI6001-FAI-01 (AI600-002): current fairness assessment with subgroup metrics ------------------------------


def fairness(use_case, performed_on, **kwargs):
    assessment = FairnessAssessmentFactory(use_case=use_case, performed_on=performed_on, **kwargs)
    FairnessMetricFactory(assessment=assessment)
    return assessment


def hi(project, stage="deployed"):
    return UseCaseFactory(project=project, high_impact=True, stage=stage, **OPERATING)


def test_fai01_passes_with_a_recent_passing_assessment(project):
    fairness(hi(project), days_ago(90))
    result = result_of(project, "AI600-002")
    assert result.status == "pass"
    assert result.parameters["rule.rules[0].max_age_days"] == {
        "value": 90,
        "provenance": "D",
        "source": "policy evidence.fairness_freshness_days",
    }


def test_fai01_a_stale_or_failing_assessment_is_partial(project):
    fairness(hi(project), days_ago(91))
    fairness(hi(project), days_ago(5), overall_result="fail", breach_count=2)
    result = result_of(project, "AI6001-FAI-01")
    assert (result.status, result.counts["partial"]) == ("partial", 2)


def test_fai01_fails_without_metrics_or_when_retracted(project):
    FairnessAssessmentFactory(use_case=hi(project), performed_on=days_ago(3))  # no subgroup metric
    fairness(hi(project), days_ago(3), status="retracted", retraction_reason="Wrong data set")
    assert status_of(project, "AI6001-FAI-01") == "fail"


def test_fai01_is_not_applicable_without_operating_high_impact_use_cases(project):
    fairness(UseCaseFactory(project=project, stage="deployed"), days_ago(3))
    assert status_of(project, "AI6001-FAI-01") == "not_applicable"


# --- AI6001-PRV-01 (AI600-003): verifiable provenance chain (pass 100 %, partial >= 95 %) --------------------


def provenance(use_case, n: int, broken: int = 0):
    for i in range(1, n + 1):
        ProvenanceRecord.objects.create(
            project=use_case.project,
            use_case=use_case,
            sequence=i,
            trace_id=f"{use_case.pk:016x}{i:016x}",
            data_sources=["wages-2026"],
            model_name="chat-llm",
            model_version="2026-01",
            output_reference=f"answer/{i}",
            generated_at=NOW - dt.timedelta(days=1),
            previous_hash=hashlib.sha256(f"{use_case.pk}-{i - 1}".encode()).hexdigest(),
            record_hash=hashlib.sha256(f"{use_case.pk}-{i}".encode()).hexdigest(),
            ledger_entry_id=f"LED-{i}",
            chain_status="broken" if i <= broken else "verified",
            chain_checked_at=NOW,
        )


def test_prv01_passes_when_every_record_verifies(project):
    provenance(generative(project), 3)
    assert status_of(project, "AI600-003") == "pass"


def test_prv01_is_partial_at_95_percent(project):
    provenance(generative(project), 20, broken=1)
    result = result_of(project, "AI6001-PRV-01")
    assert (result.status, result.failing[0]["reason"]) == ("partial", "19 of 20 provenance records verified (95.0 %)")
    assert result.failing[0]["related"][0]["model"] == "accountability.provenancerecord"


def test_prv01_fails_below_95_percent_or_without_records(project):
    provenance(generative(project), 2, broken=1)
    generative(project)
    assert sorted(f["reason"] for f in result_of(project, "AI6001-PRV-01").failing) == [
        "1 of 2 provenance records verified (50.0 %)",
        "no provenance records verified",
    ]


def test_prv01_is_not_applicable_without_operating_generative_use_cases(project):
    UseCaseFactory(project=project, stage="deployed")
    assert status_of(project, "AI6001-PRV-01") == "not_applicable"


# --- AI6001-PRV-02 (AI600-004): an APPROVED, current content-tracing policy with tracing on ------------------


def policy(project, **kwargs):
    defaults = {"status": "approved", "approved_at": NOW - dt.timedelta(days=10), "review_due_on": TODAY}
    return ContentTracingPolicyFactory(project=project, **{**defaults, **kwargs})


def test_prv02_passes_with_an_approved_current_policy(project):
    generative(project)
    policy(project)
    assert status_of(project, "AI600-004") == "pass"


def test_prv02_is_partial_when_overdue_for_review_or_retention_too_short(project):
    generative(project)
    policy(project, review_due_on=days_ago(1))
    assert status_of(project, "AI6001-PRV-02") == "partial"


def test_prv02_a_short_retention_is_partial(project):
    generative(project)
    policy(project, retention_days=182)
    assert status_of(project, "AI6001-PRV-02") == "partial"


def test_prv02_fails_with_a_draft_only_or_an_approved_policy_that_is_stale_and_off(project):
    generative(project)
    ContentTracingPolicyFactory(project=project)  # draft
    assert status_of(project, "AI6001-PRV-02") == "fail"
    policy(project, version=2, review_due_on=days_ago(1), tracing_enabled=False)
    assert status_of(project, "AI6001-PRV-02") == "fail"


def test_prv02_is_not_applicable_without_generative_use_cases(project):
    UseCaseFactory(project=project)
    policy(project)
    assert status_of(project, "AI6001-PRV-02") == "not_applicable"


# --- AI6001-INC-01 (M26-003): complete incident records (pass 100 %, partial >= 80 %) --------------------------


COMPLETE_INCIDENT = {
    "affected_systems": ["BEN-SYS"],
    "source": "Caseworker report",
    "data_reported": "Answer transcript 2026-06-01.",
    "occurred_at": NOW - dt.timedelta(days=20),
    "impacts": "Wrong eligibility guidance to 3 applicants.",
    "stakeholders_impacted": "Applicants",
}


def test_inc01_passes_when_every_incident_record_is_complete(project):
    IncidentFactory(project=project, **COMPLETE_INCIDENT)
    IncidentFactory(
        project=project,
        severity="critical",
        status="resolved",
        resolved_at=NOW,
        root_cause="Prompt gap",
        lessons_learned="Add a retrieval check.",
        **COMPLETE_INCIDENT,
    )
    assert status_of(project, "M26-003") == "pass"


def test_inc01_is_partial_at_80_percent(project):
    for _ in range(4):
        IncidentFactory(project=project, **COMPLETE_INCIDENT)
    incomplete = IncidentFactory(project=project, **{**COMPLETE_INCIDENT, "impacts": ""})
    result = result_of(project, "AI6001-INC-01")
    assert (result.status, result.failing[0]["reason"]) == (
        "partial",
        "4 of 5 incidents with complete records (80.0 %)",
    )
    assert [r["id"] for r in result.failing[0]["related"]] == [incomplete.public_id]


def test_inc01_a_resolved_critical_incident_needs_lessons_learned(project):
    IncidentFactory(
        project=project, severity="critical", status="resolved", resolved_at=NOW, root_cause="Gap", **COMPLETE_INCIDENT
    )
    assert status_of(project, "AI6001-INC-01") == "fail"


def test_inc01_is_not_applicable_without_incidents(project):
    assert status_of(project, "AI6001-INC-01") == "not_applicable"


# --- AI6001-INC-02: documented escalation procedure (applies to every project; pass or fail) ------------------


def test_inc02_passes_with_an_active_plan_that_has_an_escalation_path(project):
    active_plan(project=project)  # a project-wide plan
    assert status_of(project, "AI6001-INC-02") == "pass"


def test_inc02_fails_with_a_draft_plan_or_an_empty_escalation_path_and_is_never_not_applicable(project):
    assert status_of(project, "AI6001-INC-02") == "fail"  # every project needs one: no not_applicable case
    PlanVersionFactory(plan__project=project, plan__use_case=None)  # draft
    active_plan(project=project, escalation_path=[])
    result = result_of(project, "AI6001-INC-02")
    assert (result.status, result.failing[0]["reason"]) == ("fail", "no active oversight plan with an escalation path")


# --- AI6001-VND-01: vendor cards reviewed (pass 100 %, partial >= 50 %) -----------------------------------------


def test_aivnd01_pass_partial_fail_and_not_applicable(project):
    assert status_of(project, "AI6001-VND-01") == "not_applicable"
    VendorArtefactsFactory(use_case=llm(project), card_reviewed_at=NOW)
    assert status_of(project, "AI6001-VND-01") == "pass"
    VendorArtefactsFactory(use_case=llm(project))
    assert status_of(project, "AI6001-VND-01") == "partial"
    VendorArtefactsFactory(use_case=llm(project))
    assert status_of(project, "AI6001-VND-01") == "fail"


# --- AI6001-INV-01: published model card and active plan with roles (pass 100 %, partial >= 80 %) -------------


def documented(project):
    use_case = generative(project)
    ModelCardFactory(use_case=use_case, published=True)
    active_plan(use_case)
    return use_case


def test_inv01_generative_passes_when_documented(project):
    documented(project)
    assert status_of(project, "AI6001-INV-01") == "pass"


def test_inv01_generative_is_partial_at_80_percent(project):
    for _ in range(4):
        documented(project)
    ModelCardFactory(use_case=generative(project))  # draft card only
    assert status_of(project, "AI6001-INV-01") == "partial"


def test_inv01_generative_fails_with_a_draft_card(project):
    use_case = generative(project)
    ModelCardFactory(use_case=use_case)
    active_plan(use_case)
    result = result_of(project, "AI6001-INV-01")
    assert (result.status, result.failing[0]["reason"]) == ("fail", "no published model card")


def test_inv01_generative_is_not_applicable_without_generative_use_cases(project):
    UseCaseFactory(project=project)
    assert status_of(project, "AI6001-INV-01") == "not_applicable"


# --- GAO-GOV-01 (GAO-001): goal, owner, active plan, accountable official (pass 100 %, partial >= 80 %) -------


def governed(project, **kwargs):
    use_case = UseCaseFactory(project=project, **{"responsible_official_name": "Dana Lee", **kwargs})
    active_plan(use_case)
    return use_case


def test_gao_gov01_passes_with_owner_plan_and_caio(project):
    CAIODesignationFactory(project=project)
    governed(project)
    assert status_of(project, "GAO-001") == "pass"


def test_gao_gov01_is_partial_at_80_percent(project):
    CAIODesignationFactory(project=project)
    for _ in range(4):
        governed(project)
    gap = governed(project, responsible_official_name="")
    result = result_of(project, "GAO-GOV-01")
    assert (result.status, failing_ids(result)) == ("partial", [gap.public_id])
    assert result.failing[0]["reason"] == "not met: a stated purpose and a named responsible official"


def test_gao_gov01_fails_without_an_active_accountable_official(project):
    CAIODesignationFactory(project=project, expiry_date=days_ago(1))
    governed(project)
    result = result_of(project, "GAO-GOV-01")
    assert (result.status, result.failing[0]["reason"]) == ("fail", "no active CAIO designation for the project")


def test_gao_gov01_is_not_applicable_without_live_use_cases(project):
    UseCaseFactory(project=project, stage="retired")
    assert status_of(project, "GAO-GOV-01") == "not_applicable"


# --- GAO-PRF-01: latest observation against targets (within 90 days) ------------------------------------------


def observed(project, on, within=True):
    plan = MonitoringPlanFactory(use_case=UseCaseFactory(project=project, stage="deployed"))
    return MonitoringObservation.objects.create(
        plan=plan,
        project=project,
        use_case=plan.use_case,
        observed_on=on,
        metric_values={},
        results=[],
        within_threshold=within,
        breach_count=0 if within else 2,
        corrective_action="" if within else "Threshold review scheduled.",
    )


def test_gao_prf01_pass_partial_fail_and_not_applicable(project):
    assert status_of(project, "GAO-PRF-01") == "not_applicable"
    observed(project, days_ago(1))
    assert status_of(project, "GAO-PRF-01") == "pass"
    breach = observed(project, days_ago(2), within=False)
    result = result_of(project, "GAO-PRF-01")
    assert (result.status, result.failing[0]["reason"]) == ("partial", "2 metric(s) missed their target on 2026-06-13")
    assert result.failing[0]["related"][0]["id"] == breach.public_id
    observed(project, days_ago(91))
    result = result_of(project, "GAO-PRF-01")
    assert (result.status, result.failing[0]["reason"]) == ("fail", "no monitoring observation in the last 90 days")


# --- GAO-MON-01 (GAO-002): monitoring at its planned frequency (partial at one missed cycle) -----------------


def plan_due(project, due, every=30):
    return MonitoringPlanFactory(
        use_case=UseCaseFactory(project=project, stage="pilot"), frequency_days=every, next_observation_due=due
    )


def test_gao_mon01_passes_when_no_observation_is_overdue(project):
    plan_due(project, TODAY)
    assert status_of(project, "GAO-002") == "pass"


def test_gao_mon01_is_partial_with_one_missed_cycle(project):
    plan_due(project, days_ago(30))
    result = result_of(project, "GAO-MON-01")
    assert (result.status, result.failing[0]["reason"]) == ("partial", "observation overdue by 30 days (every 30 days)")


def test_gao_mon01_fails_beyond_one_cycle_or_without_a_plan(project):
    plan_due(project, days_ago(31))
    UseCaseFactory(project=project, stage="deployed")
    assert sorted(f["reason"] for f in result_of(project, "GAO-MON-01").failing) == [
        "no active monitoring plan",
        "observation overdue by 31 days: 2 cycles missed",
    ]


def test_gao_mon01_is_not_applicable_before_pilot(project):
    UseCaseFactory(project=project, stage="pre_deployment")
    assert status_of(project, "GAO-MON-01") == "not_applicable"
