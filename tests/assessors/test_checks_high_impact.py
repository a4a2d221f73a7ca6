"""OMB M-25-21 high-impact checks (minimum practices, impact assessment, reassessment, monitoring,
training, oversight, appeals, feedback, waivers, discontinuation): pass, partial, fail, not_applicable."""

from __future__ import annotations

import datetime as dt

import pytest

from accountability.models import MonitoringObservation
from tests.appeals.factories import AppealFactory
from tests.evidence.factories import (
    FeedbackChannelFactory,
    FeedbackItemFactory,
    ImpactAssessmentFactory,
    MonitoringPlanFactory,
    OperatorTrainingFactory,
    WaiverFactory,
)
from tests.factories import PlanVersionFactory, ProjectFactory, UseCaseFactory
from tests.incidents.factories import ScheduleFactory

from .helpers import ALL_PRACTICES, NOW, OPERATING, TODAY, days_ago, failing_ids, result_of, status_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def high_impact(project, stage="deployed", **kwargs):
    return UseCaseFactory(project=project, high_impact=True, stage=stage, **{**OPERATING, **kwargs})


def observe(plan, on: dt.date, within=True):
    return MonitoringObservation.objects.create(
        plan=plan,
        project=plan.project,
        use_case=plan.use_case,
        observed_on=on,
        metric_values={"accuracy": "0.9"},
        results=[],
        within_threshold=within,
        breach_count=0 if within else 1,
        corrective_action="" if within else "Retrained on the 2026 data.",
    )


# --- M2521-MRP-01: minimum practices (deadline 3 Apr 2026) -------------------------------------------------


def test_mrp01_passes_when_every_practice_is_implemented(project):
    high_impact(project, minimum_practices=ALL_PRACTICES)
    assert status_of(project, "M2521-MRP-01") == "pass"


def test_mrp01_a_waived_practice_counts_only_with_a_waiver_in_force(project):
    use_case = high_impact(project, minimum_practices={**ALL_PRACTICES, "public_consultation": "waived"})
    WaiverFactory(use_case=use_case, granted_on=days_ago(100), next_recertification_due=TODAY + dt.timedelta(days=200))
    assert status_of(project, "M2521-MRP-01") == "pass"


def test_mrp01_an_expired_waiver_does_not_cover_its_practice(project):
    use_case = high_impact(project, minimum_practices={**ALL_PRACTICES, "public_consultation": "waived"})
    WaiverFactory(use_case=use_case, granted_on=days_ago(400), next_recertification_due=days_ago(35))
    result = result_of(project, "M2521-MRP-01")
    assert result.status == "fail"
    assert result.failing[0]["reason"] == (
        "1 of 9 practices missing: public consultation (waived without a waiver in force)"
    )


def test_mrp01_gaps_before_deployment_are_partial(project):
    high_impact(project, stage="pre_deployment", minimum_practices={**ALL_PRACTICES, "testing": "in_progress"})
    result = result_of(project, "M2521-MRP-01")
    assert (result.status, result.failing[0]["reason"]) == (
        "partial",
        "1 of 9 practices missing: testing (in progress)",
    )


def test_mrp01_gaps_on_a_deployed_use_case_are_partial_before_the_deadline_and_fail_after(project, clock):
    high_impact(project, minimum_practices={})
    assert status_of(project, "M2521-MRP-01") == "fail"
    clock.move_to(dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC))
    result = result_of(project, "M2521-MRP-01")
    assert result.status == "partial"
    assert result.failing[0]["reason"].endswith("(due 2026-04-03: partial until then)")
    assert result.parameters["rule.due"] == {
        "value": "2026-04-03",
        "provenance": "F",
        "note": "§4(a)(i): within 365 days of issuance",
    }


def test_mrp01_is_not_applicable_without_high_impact_use_cases(project):
    UseCaseFactory(project=project)
    assert status_of(project, "M2521-MRP-01") == "not_applicable"


# --- M2521-TRM-01: no deployed high-impact use case without its practices (from 3 Apr 2026) -----------------


def test_trm01_passes_when_deployed_use_cases_have_their_practices(project):
    high_impact(project, minimum_practices=ALL_PRACTICES)
    high_impact(project, stage="pilot", minimum_practices={})  # not deployed: out of scope
    result = result_of(project, "M2521-TRM-01")
    assert (result.status, result.counts["total"]) == ("pass", 1)


def test_trm01_fails_for_a_deployed_use_case_with_a_gap(project):
    bad = high_impact(project, minimum_practices={**ALL_PRACTICES, "fail_safe": "not_started"})
    result = result_of(project, "M2521-TRM-01")
    # Binary: a deployed gap after the deadline must be discontinued; there is no partial outcome.
    assert (result.status, failing_ids(result)) == ("fail", [bad.public_id])


def test_trm01_is_not_applicable_before_the_deadline_or_without_deployed_use_cases(project, clock):
    assert status_of(project, "M2521-TRM-01") == "not_applicable"
    high_impact(project, minimum_practices={})
    clock.move_to(dt.datetime(2026, 4, 2, 14, 0, tzinfo=dt.UTC))
    result = result_of(project, "M2521-TRM-01")
    assert (result.status, result.summary) == ("not_applicable", "Not applicable: in force from 2026-04-03.")


# --- M2521-IA-01: impact assessment A–G accepted before deployment -------------------------------------------


def accepted(use_case, stage_at_acceptance="pre_deployment", **kwargs):
    return ImpactAssessmentFactory(
        use_case=use_case,
        status="accepted",
        reviewed_at=NOW - dt.timedelta(days=60),
        risk_accepted_at=NOW - dt.timedelta(days=50),
        use_case_stage_at_acceptance=stage_at_acceptance,
        **kwargs,
    )


def test_ia01_passes_with_a_complete_assessment_accepted_before_deployment(project):
    use_case = high_impact(project)
    assessment = accepted(use_case)
    result = result_of(project, "M2521-IA-01")
    assert result.status == "pass"
    assert result.outcomes[use_case.pk].objects == (("accountability.ImpactAssessment", assessment.pk),)


def test_ia01_is_partial_for_an_open_version_before_deployment_or_an_acceptance_after_it(project):
    ImpactAssessmentFactory(use_case=high_impact(project, stage="pilot"), status="submitted")
    accepted(high_impact(project), stage_at_acceptance="deployed")
    result = result_of(project, "M2521-IA-01")
    assert result.status == "partial"
    reasons = sorted(f["reason"] for f in result.failing)
    assert reasons[0].endswith("is submitted for independent review, not yet accepted")
    assert reasons[1].endswith(": risk accepted only after deployment (due before it)")


def test_ia01_an_accepted_version_missing_a_section_is_partial(project):
    accepted(high_impact(project), costs="")
    result = result_of(project, "M2521-IA-01")
    assert result.status == "partial"
    assert result.failing[0]["reason"].endswith("accepted but lacks E (Costs)")


def test_ia01_fails_for_a_deployed_use_case_without_an_accepted_assessment(project):
    use_case = high_impact(project)
    ImpactAssessmentFactory(use_case=use_case, status="draft")
    result = result_of(project, "M2521-IA-01")
    assert (result.status, result.failing[0]["reason"]) == ("fail", "deployed without an accepted impact assessment")


def test_ia01_is_not_applicable_without_high_impact_use_cases(project):
    ImpactAssessmentFactory(use_case=UseCaseFactory(project=project))
    assert status_of(project, "M2521-IA-01") == "not_applicable"


# --- M2521-IA-02 (M26-002): reassessments on schedule (partial up to 30 days overdue) -----------------------


def test_ia02_passes_when_the_reassessment_is_not_yet_due(project):
    ScheduleFactory(project=project, use_case=high_impact(project), next_due=TODAY + dt.timedelta(days=5))
    assert status_of(project, "M26-002") == "pass"


def test_ia02_is_partial_when_overdue_by_at_most_30_days(project):
    schedule = ScheduleFactory(project=project, use_case=high_impact(project), next_due=days_ago(30))
    result = result_of(project, "M2521-IA-02")
    assert result.status == "partial"
    assert result.failing[0]["related"][0]["id"] == schedule.public_id


def test_ia02_fails_beyond_30_days_or_without_a_schedule(project):
    ScheduleFactory(project=project, use_case=high_impact(project), next_due=days_ago(31))
    high_impact(project, stage="pilot")
    result = result_of(project, "M2521-IA-02")
    assert result.status == "fail"
    assert sorted(f["reason"] for f in result.failing) == [
        "1 overdue reassessment(s); the oldest is 31 days past (at most 0, 30 more tolerated)",
        "no active reassessment schedule",
    ]


def test_ia02_an_inactive_schedule_does_not_count(project):
    ScheduleFactory(
        project=project, use_case=high_impact(project), is_active=False, deactivated_reason="Replaced", next_due=TODAY
    )
    assert status_of(project, "M2521-IA-02") == "fail"


def test_ia02_is_not_applicable_before_pilot(project):
    high_impact(project, stage="pre_deployment")
    assert status_of(project, "M2521-IA-02") == "not_applicable"


# --- M2521-MON-01: monitoring plan with a record in the last 90 days -----------------------------------------


def test_mon01_passes_with_a_recent_observation(project):
    observe(MonitoringPlanFactory(use_case=high_impact(project)), days_ago(90))
    assert status_of(project, "M2521-MON-01") == "pass"


def test_mon01_is_partial_for_a_plan_without_a_recent_record(project):
    observe(MonitoringPlanFactory(use_case=high_impact(project)), days_ago(91))
    result = result_of(project, "M2521-MON-01")
    assert result.status == "partial"
    assert (
        "stale monitoring observation under an active plan: latest on 2026-03-16, 91 days ago"
        in (result.failing[0]["reason"])
    )


def test_mon01_fails_without_an_active_plan(project):
    plan = MonitoringPlanFactory(use_case=high_impact(project), status="retired", retirement_reason="Replaced")
    observe(plan, days_ago(3))  # observations under a retired plan do not count
    assert status_of(project, "M2521-MON-01") == "fail"


def test_mon01_is_not_applicable_without_operating_high_impact_use_cases(project):
    high_impact(project, stage="pre_deployment")
    assert status_of(project, "M2521-MON-01") == "not_applicable"


# --- M2521-TRN-01: current, system-specific operator training (pass 100 %, partial >= 80 %) -----------------


def test_trn01_passes_with_current_training(project):
    OperatorTrainingFactory(use_case=high_impact(project), completed_on=days_ago(100), expires_on=days_ago(-265))
    assert status_of(project, "M2521-TRN-01") == "pass"


def test_trn01_is_partial_at_80_percent(project):
    for _ in range(4):
        OperatorTrainingFactory(use_case=high_impact(project))
    high_impact(project)
    assert result_of(project, "M2521-TRN-01").ratio == 0.8
    assert status_of(project, "M2521-TRN-01") == "partial"


def test_trn01_expired_failed_or_generic_training_does_not_count(project):
    OperatorTrainingFactory(use_case=high_impact(project), completed_on=days_ago(400), expires_on=days_ago(35))
    OperatorTrainingFactory(use_case=high_impact(project), assessment_passed=False)
    OperatorTrainingFactory(use_case=high_impact(project), system_specific=False)
    result = result_of(project, "M2521-TRN-01")
    assert (result.status, result.counts["fail"]) == ("fail", 3)


def test_trn01_is_not_applicable_without_operating_high_impact_use_cases(project):
    OperatorTrainingFactory(use_case=UseCaseFactory(project=project, stage="deployed"))
    assert status_of(project, "M2521-TRN-01") == "not_applicable"


# --- M2521-OVS-01 (M25-003): an ACTIVE oversight plan with an intervention role and a fail-safe -------------


def test_ovs01_passes_with_an_active_plan_version(project):
    use_case = high_impact(project)
    PlanVersionFactory(plan__project=project, plan__use_case=use_case, status="active")
    assert status_of(project, "M25-003") == "pass"


def test_ovs01_is_partial_without_a_fail_safe(project):
    use_case = high_impact(project)
    PlanVersionFactory(plan__project=project, plan__use_case=use_case, status="active", fail_safe="")
    result = result_of(project, "M2521-OVS-01")
    assert (result.status, result.failing[0]["status"]) == ("partial", "partial")


def test_ovs01_a_fail_safe_may_be_replaced_by_the_reason_none_is_practicable(project):
    use_case = high_impact(project)
    PlanVersionFactory(
        plan__project=project,
        plan__use_case=use_case,
        status="active",
        fail_safe="",
        fail_safe_not_applicable_reason="Output is advisory; no automated action exists.",
    )
    assert status_of(project, "M2521-OVS-01") == "pass"


def test_ovs01_a_draft_or_archived_version_does_not_count(project):
    use_case = high_impact(project)
    PlanVersionFactory(plan__project=project, plan__use_case=use_case, status="draft")
    PlanVersionFactory(plan__project=project, plan__use_case=use_case, status="archived", version=2)
    result = result_of(project, "M2521-OVS-01")
    assert (result.status, failing_ids(result)) == ("fail", [use_case.public_id])


def test_ovs01_applies_to_non_federal_projects_too(db):
    project = ProjectFactory(is_federal_agency=False)
    high_impact(project)
    assert status_of(project, "M2521-OVS-01") == "fail"


def test_ovs01_is_not_applicable_without_high_impact_use_cases(project):
    high_impact(project, stage="retired")
    assert status_of(project, "M2521-OVS-01") == "not_applicable"


# --- M2521-APL-01 (GAO-003): appeal process in place and timely ----------------------------------------------


def test_apl01_passes_with_an_implemented_process_and_appeals_within_deadline(project):
    use_case = high_impact(project, minimum_practices={"appeal_process": "implemented"})
    AppealFactory(project=project, use_case=use_case)  # deadlines in the future
    result = result_of(project, "GAO-003")
    assert (result.check.id, result.status) == ("M2521-APL-01", "pass")


def test_apl01_is_partial_when_an_appeal_misses_its_assignment_deadline(project):
    use_case = high_impact(project, minimum_practices={"appeal_process": "implemented"})
    late = AppealFactory(project=project, use_case=use_case, assignment_due_at=NOW - dt.timedelta(hours=5))
    result = result_of(project, "M2521-APL-01")
    assert result.status == "partial"
    assert result.failing[0]["related"][0]["id"] == late.public_id


def test_apl01_fails_without_an_appeal_process(project):
    high_impact(project, minimum_practices={"appeal_process": "in_progress"})
    assert status_of(project, "M2521-APL-01") == "fail"


def test_apl01_is_not_applicable_before_pilot(project):
    high_impact(project, stage="pre_deployment")
    assert status_of(project, "M2521-APL-01") == "not_applicable"


# --- M2521-FBK-01: feedback channel with timely triage -------------------------------------------------------


def test_fbk01_passes_with_an_active_channel_and_items_triaged_in_time(project):
    channel = FeedbackChannelFactory(use_case=high_impact(project))
    FeedbackItemFactory(channel=channel, received_at=NOW - dt.timedelta(days=3))
    assert status_of(project, "M2521-FBK-01") == "pass"


def test_fbk01_is_partial_when_an_item_is_past_its_triage_deadline(project):
    channel = FeedbackChannelFactory(use_case=high_impact(project))
    FeedbackItemFactory(channel=channel, received_at=NOW - dt.timedelta(days=31))
    assert status_of(project, "M2521-FBK-01") == "partial"


def test_fbk01_fails_without_an_active_channel(project):
    FeedbackChannelFactory(use_case=high_impact(project), is_active=False, deactivation_reason="Vendor ended it")
    assert status_of(project, "M2521-FBK-01") == "fail"


def test_fbk01_is_not_applicable_without_operating_high_impact_use_cases(project):
    FeedbackChannelFactory(use_case=UseCaseFactory(project=project, stage="deployed"))
    assert status_of(project, "M2521-FBK-01") == "not_applicable"


# --- M2521-WVR-01: every waiver valid ------------------------------------------------------------------------


def valid_waiver(project, **kwargs):
    defaults = {
        "granted_on": days_ago(100),
        "next_recertification_due": TODAY + dt.timedelta(days=265),
        "grant_omb_report_due": days_ago(70),
        "grant_reported_to_omb_on": days_ago(90),
        "public_summary_url": "https://agency.gov/ai/waivers/1",
    }
    return WaiverFactory(use_case=high_impact(project), **{**defaults, **kwargs})


def test_wvr01_passes_when_every_waiver_is_valid(project):
    waiver = valid_waiver(project)
    result = result_of(project, "M2521-WVR-01")
    assert (result.status, result.counts["ok"]) == ("pass", 1)
    assert result.outcomes[waiver.pk].reason == "valid (active)"


def test_wvr01_fails_for_an_overdue_recertification_a_late_omb_report_or_no_public_summary(project):
    late_recert = valid_waiver(project, granted_on=days_ago(400), next_recertification_due=days_ago(1))
    unreported = valid_waiver(project, grant_reported_to_omb_on=None)
    unpublished = valid_waiver(project, public_summary_url="")
    valid_waiver(project)
    result = result_of(project, "M2521-WVR-01")
    # Binary: any invalid waiver fails the check (frameworks.md §6.1); there is no partial outcome.
    assert result.status == "fail"
    assert {f["id"]: f["reason"] for f in result.failing} == {
        late_recert.public_id: "annual recertification overdue",
        unreported.public_id: "grant not reported",
        unpublished.public_id: "no public summary (§4(a)(iv))",
    }


def test_wvr01_is_not_applicable_without_waivers(project):
    high_impact(project)
    assert status_of(project, "M2521-WVR-01") == "not_applicable"
