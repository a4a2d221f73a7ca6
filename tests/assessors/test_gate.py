"""The security gate: each blocking and warning condition, its threshold from the policy file, and the
overall decision (passed / warnings / blocked)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accountability.config import policy
from accountability.models import EthicsReview
from assessors.services import audit_evaluate
from tests.appeals.factories import AppealFactory
from tests.evidence.factories import WaiverFactory
from tests.factories import CAIODesignationFactory, PlanVersionFactory, ProjectFactory, UseCaseFactory
from tests.incidents.factories import IncidentFactory, ScheduleFactory

from .helpers import ALL_PRACTICES, NOW, OPERATING, SYSTEM, days_ago

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
ET = ZoneInfo("America/New_York")


def gate_of(project):
    return audit_evaluate(actor=SYSTEM, project=project).gate


def condition(gate, cid):
    return next(c for c in gate.conditions if c.id == cid)


def ids(conditions):
    return [c.id for c in conditions]


@pytest.fixture
def compliant(project, clock):
    """A federal project that passes every applicable check: an SES CAIO reported to OMB, one complete,
    older use case with an owner and an active oversight plan (with an escalation path)."""
    CAIODesignationFactory(project=project, grade="ses", effective_date=days_ago(300), omb_notified_at=days_ago(290))
    clock.move_to(NOW - dt.timedelta(days=200))
    use_case = UseCaseFactory(project=project, responsible_official_name="Dana Lee")
    clock.move_to(NOW)
    PlanVersionFactory(plan__project=project, plan__use_case=use_case, status="active")
    return use_case


def test_a_compliant_project_passes_the_gate(compliant, project):
    gate = gate_of(project)
    assert (gate.status, gate.blocking, gate.warnings) == ("passed", [], [])
    assert condition(gate, "GATE-PASS-RATIO").detail == "6 of 6 applicable checks pass (100.0 %)"


# --- blocking ------------------------------------------------------------------------------------------


def test_no_active_caio_blocks_a_federal_project(compliant, project):
    project.caio_designations.update(expiry_date=days_ago(1))
    gate = gate_of(project)
    assert gate.status == "blocked"
    assert ids(gate.blocking) == ["GATE-CAIO"]
    caio = condition(gate, "GATE-CAIO")
    assert [o["id"] for o in caio.objects] == ["proj-123"]
    assert caio.objects[0]["reason"] == "no active CAIO designation"


def test_the_caio_condition_does_not_apply_to_a_non_federal_project(db, clock):
    project = ProjectFactory(is_federal_agency=False)
    caio = condition(gate_of(project), "GATE-CAIO")
    assert (caio.applicable, caio.triggered) == (False, False)


def test_a_high_impact_use_case_without_an_active_plan_blocks(compliant, project):
    draft_only = UseCaseFactory(project=project, high_impact=True, stage="pre_deployment")
    PlanVersionFactory(plan__project=project, plan__use_case=draft_only, status="draft")
    gate = gate_of(project)
    assert "GATE-OVERSIGHT" in ids(gate.blocking)
    assert [o["id"] for o in condition(gate, "GATE-OVERSIGHT").objects] == [draft_only.public_id]


def test_an_active_plan_without_a_fail_safe_does_not_block(compliant, project):
    use_case = UseCaseFactory(project=project, high_impact=True, stage="pre_deployment")
    PlanVersionFactory(plan__project=project, plan__use_case=use_case, status="active", fail_safe="")
    gate = gate_of(project)
    assert condition(gate, "GATE-OVERSIGHT").triggered is False
    assert "GATE-OVERSIGHT" not in ids(gate.blocking)


@pytest.mark.parametrize(
    ("hours", "severity", "status", "blocks"),
    [
        (73, "critical", "investigating", True),
        (71, "critical", "open", False),
        (100, "high", "open", False),
        (100, "critical", "mitigated", True),
    ],
)
def test_a_critical_incident_open_beyond_72_hours_blocks(compliant, project, hours, severity, status, blocks):
    incident = IncidentFactory(
        project=project, severity=severity, status=status, reported_at=NOW - dt.timedelta(hours=hours)
    )
    cond = condition(gate_of(project), "GATE-CRITICAL-INCIDENT")
    assert cond.triggered is blocks
    assert cond.threshold == {
        "name": "critical_incident_sla_hours",
        "value": 72,
        "unit": "hours",
        "provenance": "D",
        "source": "portal policy (ai_accountability_config.yaml, gate)",
    }
    if blocks:
        assert cond.objects[0]["id"] == incident.public_id
        assert cond.objects[0]["open_hours"] == float(hours)


def test_a_resolved_critical_incident_does_not_block(compliant, project):
    IncidentFactory(
        project=project,
        severity="critical",
        status="resolved",
        resolved_at=NOW,
        root_cause="Gap",
        reported_at=NOW - dt.timedelta(days=9),
    )
    assert condition(gate_of(project), "GATE-CRITICAL-INCIDENT").triggered is False


def test_the_incident_threshold_comes_from_the_policy_file(compliant, project, monkeypatch):
    monkeypatch.setitem(policy()["gate"], "critical_incident_sla_hours", 24)
    IncidentFactory(project=project, severity="critical", reported_at=NOW - dt.timedelta(hours=30))
    gate = gate_of(project)
    assert "GATE-CRITICAL-INCIDENT" in ids(gate.blocking)
    assert condition(gate, "GATE-CRITICAL-INCIDENT").title == "Critical incident unresolved for more than 24 hours"


def submitted_at(clock, when: dt.datetime, project, **kwargs):
    clock.move_to(when)
    appeal = AppealFactory(project=project, **kwargs)
    clock.move_to(NOW)
    return appeal


def test_an_appeal_without_a_reviewer_for_more_than_5_business_days_blocks(compliant, project, clock):
    # Submitted Friday 5 June 10:00 ET: five business days end Friday 12 June 10:00 ET, before NOW (Mon 15 June).
    late = submitted_at(clock, dt.datetime(2026, 6, 5, 10, 0, tzinfo=ET), project, use_case=compliant)
    gate = gate_of(project)
    assert "GATE-APPEAL-ASSIGNMENT" in ids(gate.blocking)
    cond = condition(gate, "GATE-APPEAL-ASSIGNMENT")
    assert [o["id"] for o in cond.objects] == [late.public_id]
    assert cond.objects[0]["deadline"] == "2026-06-12T10:00:00-04:00"
    assert cond.objects[0]["business_days_waiting"] == 6


def test_business_days_not_calendar_days_count_for_appeals(compliant, project, clock):
    # Tuesday 9 June 09:00 ET: six calendar days before NOW but only four business days.
    submitted_at(clock, dt.datetime(2026, 6, 9, 9, 0, tzinfo=ET), project, use_case=compliant)
    assert condition(gate_of(project), "GATE-APPEAL-ASSIGNMENT").triggered is False


def test_an_appeal_with_a_reviewer_does_not_block(compliant, project, clock, staff_user):
    submitted_at(
        clock,
        dt.datetime(2026, 5, 1, 10, 0, tzinfo=ET),
        project,
        use_case=compliant,
        status="under_review",
        reviewer=staff_user,
    )
    assert condition(gate_of(project), "GATE-APPEAL-ASSIGNMENT").triggered is False


def test_a_failing_blocking_check_blocks_a_deployed_gap_and_an_invalid_waiver(compliant, project):
    deployed = UseCaseFactory(
        project=project, high_impact=True, stage="deployed", minimum_practices=ALL_PRACTICES, **OPERATING
    )
    PlanVersionFactory(plan__project=project, plan__use_case=deployed, status="active")
    assert ids(gate_of(project).blocking) == []
    WaiverFactory(use_case=deployed, granted_on=days_ago(400), next_recertification_due=days_ago(1))
    deployed.minimum_practices = {**ALL_PRACTICES, "testing": "in_progress"}
    deployed.save()
    gate = gate_of(project)
    assert ids(gate.blocking) == ["GATE-CHECK-M2521-TRM-01", "GATE-CHECK-M2521-WVR-01"]
    assert condition(gate, "GATE-CHECK-M2521-TRM-01").objects[0]["id"] == deployed.public_id


# --- warnings ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("overdue", "warns"), [(31, True), (30, False)])
def test_a_reassessment_overdue_by_more_than_30_days_warns(compliant, project, overdue, warns):
    schedule = ScheduleFactory(project=project, use_case=compliant, next_due=days_ago(overdue))
    gate = gate_of(project)
    cond = condition(gate, "GATE-REASSESSMENT")
    assert cond.triggered is warns
    if warns:
        assert (gate.status, ids(gate.warnings)) == ("warnings", ["GATE-REASSESSMENT"])
        assert cond.objects[0]["id"] == schedule.public_id
        assert cond.objects[0]["days_overdue"] == 31


def test_a_new_use_case_without_a_completed_ethics_review_warns(compliant, project, staff_user):
    new = UseCaseFactory(project=project, responsible_official_name="Ana Ruiz")
    PlanVersionFactory(plan__project=project, plan__use_case=new, status="active")
    gate = gate_of(project)
    assert (gate.status, ids(gate.warnings)) == ("warnings", ["GATE-ETHICS"])
    assert [o["id"] for o in condition(gate, "GATE-ETHICS").objects] == [new.public_id]
    EthicsReview.objects.create(
        project=project,
        use_case=new,
        title="Initial review",
        status="completed",
        decision="approve",
        completed_at=NOW,
        submitted_by=staff_user,
        rubric_key="icdev-core",
        rubric_version=1,
        rubric={},
        quorum_rule={},
        score_timeout_days=10,
    )
    assert gate_of(project).status == "passed"


def test_no_documented_incident_response_procedure_warns(compliant, project):
    project.oversight_plans.get().versions.update(escalation_path=[])
    gate = gate_of(project)
    assert "GATE-IR-PLAN" in ids(gate.warnings)
    assert condition(gate, "GATE-IR-PLAN").citation == "NIST AI 600-1 MG-2.3-001 (AI6001-INC-02)"


def test_fewer_than_80_percent_of_checks_passing_warns(compliant, project):
    project.caio_designations.update(grade="other")  # M2521-GOV-02 fails: 5 of 6 (83.3 %) still passes
    cond = condition(gate_of(project), "GATE-PASS-RATIO")
    assert (cond.triggered, cond.detail) == (False, "5 of 6 applicable checks pass (83.3 %)")
    compliant.bureau = ""  # M2521-INV-01 fails too: 4 of 6
    compliant.save()
    gate = gate_of(project)
    cond = condition(gate, "GATE-PASS-RATIO")
    assert (cond.triggered, cond.detail) == (True, "4 of 6 applicable checks pass (66.7 %)")
    assert (gate.status, ids(gate.warnings)) == ("warnings", ["GATE-PASS-RATIO"])


def test_the_gate_is_only_decided_by_a_complete_audit(compliant, project):
    report = audit_evaluate(actor=SYSTEM, project=project, frameworks=["GAO"])
    assert (report.complete, report.gate) == (False, None)
