"""OMB M-25-21 governance and inventory checks: pass, partial, fail and not_applicable from factories."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import CAIODesignationFactory, ProjectFactory, UseCaseFactory

from .helpers import NOW, TODAY, days_ago, failing_ids, result_of, status_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


# --- M2521-GOV-01 (M25-002): an active CAIO designation -------------------------------------------------


def test_gov01_passes_with_an_active_designation_reported_to_omb(project):
    CAIODesignationFactory(project=project, effective_date=days_ago(100), omb_notified_at=days_ago(95))
    result = result_of(project, "M2521-GOV-01")
    assert (result.status, result.counts["ok"], result.failing) == ("pass", 1, [])


def test_gov01_is_partial_when_omb_was_not_told_within_30_days(project):
    CAIODesignationFactory(project=project, effective_date=days_ago(31))
    result = result_of(project, "M25-002")
    assert result.check.id == "M2521-GOV-01"
    assert result.status == "partial"
    assert result.failing[0]["reason"] == (
        "1 active designation(s) not yet reported to OMB; the oldest is 31 days past (at most 30)"
    )
    assert result.parameters["rule.rules[1].max_age"] == {
        "value": 30,
        "provenance": "F",
        "source": "policy caio.omb_notification_days",
        "note": "OMB notified within 30 days",
    }


def test_gov01_an_unreported_designation_within_30_days_still_passes(project):
    CAIODesignationFactory(project=project, effective_date=days_ago(30))
    assert status_of(project, "M2521-GOV-01") == "pass"


def test_gov01_fails_when_only_expired_revoked_or_future_designations_exist(project):
    CAIODesignationFactory(project=project, effective_date=days_ago(400), expiry_date=days_ago(1))
    CAIODesignationFactory(
        project=project, effective_date=days_ago(50), revoked_at=NOW - dt.timedelta(days=1), revoked_reason="Left"
    )
    CAIODesignationFactory(project=project, effective_date=TODAY + dt.timedelta(days=1))
    result = result_of(project, "M2521-GOV-01")
    assert result.status == "fail"
    assert [(f["id"], f["reason"]) for f in result.failing] == [("proj-123", "no active CAIO designation")]
    assert result.failing[0]["admin_url"] == f"/admin/accountability/project/{project.pk}/change/"


def test_gov01_expiring_today_still_counts(project):
    CAIODesignationFactory(project=project, effective_date=days_ago(10), expiry_date=TODAY)
    assert status_of(project, "M2521-GOV-01") == "pass"


def test_gov01_is_not_applicable_to_a_non_federal_project(db):
    project = ProjectFactory(is_federal_agency=False)
    result = result_of(project, "M2521-GOV-01")
    assert result.status == "not_applicable"
    assert result.summary == (
        "Not applicable: OMB M-25-21 does not apply: agencies under 44 U.S.C. 3502(1) "
        "(the project's 'federal agency' flag)."
    )


# --- M2521-GOV-02: the CAIO's grade ----------------------------------------------------------------------


def test_gov02_passes_for_an_ses_caio_of_a_cfo_act_agency(db):
    project = ProjectFactory(is_cfo_act_agency=True)
    CAIODesignationFactory(project=project, grade="ses")
    assert status_of(project, "M2521-GOV-02") == "pass"


def test_gov02_fails_for_a_gs14_caio_of_a_cfo_act_agency(db):
    project = ProjectFactory(is_cfo_act_agency=True)
    designation = CAIODesignationFactory(project=project, grade="gs14")
    result = result_of(project, "M2521-GOV-02")
    assert result.status == "fail"
    assert result.failing[0]["reason"] == "grade gs14 does not fit (CFO Act agency: SES, ST or SL)"
    assert result.failing[0]["related"][0]["id"] == designation.public_id


def test_gov02_a_gs14_caio_fits_an_agency_outside_the_cfo_act(project):
    CAIODesignationFactory(project=project, grade="gs14")
    assert status_of(project, "M2521-GOV-02") == "pass"


def test_gov02_has_no_partial_outcome_one_fitting_designation_suffices(db):
    project = ProjectFactory(is_cfo_act_agency=True)
    CAIODesignationFactory(project=project, grade="gs15")
    CAIODesignationFactory(project=project, grade="st")
    assert status_of(project, "M2521-GOV-02") == "pass"


def test_gov02_is_not_applicable_without_an_active_designation(project):
    CAIODesignationFactory(project=project, grade="other", expiry_date=days_ago(1))
    result = result_of(project, "M2521-GOV-02")
    assert (result.status, result.counts["not_applicable"]) == ("not_applicable", 1)


# --- M2521-INV-01 (M25-001): inventory completeness (pass 100 %, partial >= 80 %) -------------------


def test_inv01_passes_when_every_use_case_is_complete_for_its_stage(project):
    UseCaseFactory.create_batch(2, project=project)
    result = result_of(project, "M25-001")
    assert (result.status, result.ratio) == ("pass", 1.0)


def test_inv01_is_partial_at_80_percent(project):
    UseCaseFactory.create_batch(4, project=project)
    gap = UseCaseFactory(project=project, bureau="")
    result = result_of(project, "M2521-INV-01")
    assert (result.status, result.ratio, failing_ids(result)) == ("partial", 0.8, [gap.public_id])
    assert result.failing[0]["reason"] == "1 of 9 missing: Bureau / component"


def test_inv01_fails_below_80_percent(project):
    UseCaseFactory(project=project)
    UseCaseFactory(project=project, stage="deployed")  # no operating fields
    result = result_of(project, "M2521-INV-01")
    assert (result.status, result.ratio) == ("fail", 0.5)
    assert result.failing[0]["reason"].startswith("7 of 16 missing: Operational date, Vendor or in-house")


def test_inv01_is_not_applicable_when_every_use_case_is_retired(project):
    UseCaseFactory(project=project, stage="retired", bureau="")
    assert status_of(project, "M2521-INV-01") == "not_applicable"


# --- M2521-HIA-01 (M25-004): determinations recorded (pass 100 %, partial >= 90 %) ------------------


def test_hia01_passes_when_every_use_case_is_determined(project):
    UseCaseFactory(project=project, high_impact=True)
    UseCaseFactory(project=project)
    assert status_of(project, "M25-004") == "pass"


def test_hia01_is_partial_at_90_percent(project):
    UseCaseFactory.create_batch(9, project=project)
    UseCaseFactory(project=project, high_impact_determination="not_assessed")
    result = result_of(project, "M2521-HIA-01")
    assert (result.status, result.ratio) == ("partial", 0.9)
    assert result.failing[0]["reason"] == "not met: a high-impact determination is recorded"


def test_hia01_fails_below_90_percent(project):
    UseCaseFactory(project=project)
    UseCaseFactory(project=project, high_impact_determination="not_assessed")
    assert status_of(project, "M2521-HIA-01") == "fail"


def test_hia01_is_not_applicable_without_live_use_cases(project):
    UseCaseFactory(project=project, stage="retired", high_impact_determination="not_assessed")
    assert status_of(project, "M2521-HIA-01") == "not_applicable"


# --- M2521-HIA-02: presumed high-impact purposes set aside only with a justification -----------------


def test_hia02_passes_when_presumed_uses_are_high_impact_or_justified(project):
    UseCaseFactory(project=project, presumed_categories=["m"], high_impact=True)
    UseCaseFactory(
        project=project,
        presumed_categories=["j"],
        high_impact_determination="presumed_high_determined_not",
        high_impact_justification="Advisory only; a caseworker decides. Sent to the CAIO on 2026-02-01.",
    )
    UseCaseFactory(project=project)  # no presumed category: not in scope
    result = result_of(project, "M2521-HIA-02")
    assert (result.status, result.counts["total"]) == ("pass", 2)


def test_hia02_fails_for_a_presumed_use_marked_not_high_impact(project):
    UseCaseFactory(project=project, presumed_categories=["m"], high_impact=True)
    bad = UseCaseFactory(project=project, presumed_categories=["m"], high_impact_determination="not_high")
    result = result_of(project, "M2521-HIA-02")
    # Binary by the memo's text (pass 0, fail >= 1): one unjustified use case fails the check, no partial.
    assert (result.status, failing_ids(result)) == ("fail", [bad.public_id])


def test_hia02_is_not_applicable_without_presumed_categories(project):
    UseCaseFactory(project=project)
    assert status_of(project, "M2521-HIA-02") == "not_applicable"
