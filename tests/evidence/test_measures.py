"""Fairness assessments, confabulation checks, monitoring and operator training: computed results,
validation with nothing written, and retraction."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accountability.exceptions import Conflict, InvalidTransition, ValidationFailed
from accountability.models import (
    ConfabulationCheck,
    FairnessAssessment,
    FairnessMetric,
    MonitoringObservation,
    MonitoringPlan,
    OperatorTraining,
)
from accountability.services import evidence_measures as svc
from tests.factories import UseCaseFactory, UserFactory

from .factories import ConfabulationCheckFactory, FairnessAssessmentFactory, MonitoringPlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False):
        yield


METRICS = [
    {
        "group": "age 65+",
        "reference_group": "age 25-64",
        "metric": "demographic_parity_ratio",
        "value": 0.91,
        "threshold": 0.8,
    },
    {"group": "sex=female", "metric": "equalized_odds_difference", "value": "-0.04", "threshold": "0.05"},
]


def record_fairness(actor, uc, **overrides):
    args = {
        "use_case": uc,
        "model_name": "screener-gbm",
        "model_version": "2.1",
        "performed_on": dt.date(2026, 5, 20),
        "method": "Disaggregated evaluation on the 2026 hold-out set",
        "metrics": METRICS,
    }
    return svc.fairness_assessment_record(actor=actor, **{**args, **overrides})


def test_fairness_pass_with_metrics_and_default_due_date(staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    fa = record_fairness(staff_user, uc)
    assert (fa.overall_result, fa.breach_count, fa.next_due_on, fa.status) == (
        "pass",
        0,
        dt.date(2026, 8, 18),
        "current",
    )
    rows = list(
        fa.metrics.order_by("id").values_list("group", "metric", "value", "threshold", "comparison", "within_threshold")
    )
    assert rows == [
        ("age 65+", "demographic_parity_ratio", Decimal("0.9100"), Decimal("0.8000"), "at_least", True),
        ("sex=female", "equalized_odds_difference", Decimal("-0.0400"), Decimal("0.0500"), "at_most", True),
    ]
    assert ledger_count() == before + 1


@pytest.mark.parametrize(
    ("value", "comparison", "within"),
    [
        ("0.7999", "at_least", False),
        ("0.8", "at_least", True),
        ("-0.1001", "at_most", False),
        ("-0.1", "at_most", True),
    ],
)
def test_threshold_comparison(value, comparison, within, staff_user, project):
    uc = UseCaseFactory(project=project)
    metric = {
        "group": "g",
        "metric": "accuracy_difference",
        "value": value,
        "threshold": "0.8" if comparison == "at_least" else "0.1",
        "comparison": comparison,
    }
    fa = record_fairness(staff_user, uc, metrics=[metric], overall_result=None if within else "fail")
    assert fa.metrics.get().within_threshold is within
    assert (fa.overall_result, fa.breach_count) == (("pass", 0) if within else ("fail", 1))


def test_fairness_breach_cannot_pass_and_mitigation_needs_text(staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    breach = [{"group": "age 65+", "metric": "demographic_parity_ratio", "value": 0.72, "threshold": 0.8}]
    before = ledger_count()
    with pytest.raises(ValidationFailed, match="cannot be pass"):
        record_fairness(staff_user, uc, metrics=breach, overall_result="pass")
    with pytest.raises(ValidationFailed) as exc:
        record_fairness(staff_user, uc, metrics=breach, overall_result="mitigated")
    assert exc.value.errors == {"mitigation": ["Describe the mitigation of the breaches."]}
    assert (FairnessAssessment.objects.count(), FairnessMetric.objects.count(), ledger_count()) == (0, 0, before)
    fa = record_fairness(
        staff_user, uc, metrics=breach, overall_result="mitigated", mitigation="Second reviewer for 65+"
    )
    assert (fa.overall_result, fa.breach_count) == ("mitigated", 1)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"metrics": []}, "metrics", "Give at least one subgroup metric."),
        (
            {"metrics": [{"group": "g", "metric": "vibes", "value": 1, "threshold": 1}]},
            "metrics",
            "item 1: metric must be one of",
        ),
        (
            {"metrics": [{"group": "", "metric": "accuracy_difference", "value": 1, "threshold": 1}]},
            "metrics",
            "item 1: group is required.",
        ),
        (
            {"metrics": [{"group": "g", "metric": "accuracy_difference", "value": "x", "threshold": 1}]},
            "metrics",
            "item 1: value and threshold must be numbers.",
        ),
        (
            {"metrics": [METRICS[0], METRICS[0]]},
            "metrics",
            "item 2: demographic_parity_ratio for group 'age 65+' is given twice.",
        ),
        ({"performed_on": dt.date(2026, 6, 2)}, "performed_on", "Cannot be in the future."),
        ({"method": "  "}, "method", "This field is required."),
        ({"next_due_on": dt.date(2026, 5, 20)}, "next_due_on", "Must be a date after the assessment."),
        ({"overall_result": "great"}, "overall_result", "Must be one of: pass, fail, mitigated."),
    ],
)
def test_fairness_bad_input_writes_nothing(overrides, field, message, staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        record_fairness(staff_user, uc, **overrides)
    assert exc.value.errors[field][0].startswith(message)
    assert (FairnessAssessment.objects.count(), ledger_count()) == (0, before)


def test_retraction(staff_user, project, ledger_count):
    fa = FairnessAssessmentFactory(use_case__project=project)
    with pytest.raises(ValidationFailed, match="reason"):
        svc.fairness_assessment_retract(actor=staff_user, assessment=fa, reason="")
    fa = svc.fairness_assessment_retract(actor=staff_user, assessment=fa, reason="Wrong model version")
    assert (fa.status, fa.retracted_by, fa.retraction_reason) == ("retracted", staff_user, "Wrong model version")
    before = ledger_count()
    with pytest.raises(InvalidTransition, match="already retracted"):
        svc.fairness_assessment_retract(actor=staff_user, assessment=fa, reason="again")
    check = svc.confabulation_check_retract(
        actor=staff_user, check=ConfabulationCheckFactory(use_case__project=project), reason="Duplicate"
    )
    assert check.status == "retracted"
    assert ledger_count() == before + 1


def record_confab(actor, uc, **overrides):
    args = {
        "use_case": uc,
        "model_name": "chat-llm",
        "model_version": "2026-05",
        "checked_on": dt.date(2026, 5, 31),
        "method": "Sampled answers; verified each citation against the source page.",
        "sample_size": 200,
        "errors_found": 10,
        "checks_citations": True,
        "checks_sources": True,
    }
    return svc.confabulation_check_record(actor=actor, **{**args, **overrides})


@pytest.mark.parametrize(
    ("errors_found", "rate", "result"), [(10, "0.050000", "pass"), (11, "0.055000", "fail"), (0, "0.000000", "pass")]
)
def test_confabulation_rate_and_result(errors_found, rate, result, staff_user, project):
    uc = UseCaseFactory(project=project, is_generative=True)
    check = record_confab(staff_user, uc, errors_found=errors_found)
    assert (str(check.error_rate), str(check.max_error_rate), check.result) == (rate, "0.050000", result)
    assert (check.checks_citations, check.checks_sources, check.checks_factual_claims) == (True, True, False)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"errors_found": 201}, "errors_found", "Cannot exceed the sample size."),
        ({"sample_size": 0}, "sample_size", "Must be a whole number of at least 1."),
        ({"checks_citations": False, "checks_sources": False}, "non_field_errors", "Say what was checked"),
        ({"max_error_rate": "1.5"}, "max_error_rate", "Must be a fraction between 0 and 1."),
        ({"checked_on": dt.date(2026, 6, 2)}, "checked_on", "Cannot be in the future."),
    ],
)
def test_confabulation_bad_input_writes_nothing(overrides, field, message, staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project, is_generative=True)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        record_confab(staff_user, uc, **overrides)
    assert exc.value.errors[field][0].startswith(message)
    assert (ConfabulationCheck.objects.count(), ledger_count()) == (0, before)


def test_confabulation_only_for_generative_use_cases(staff_user, project):
    with pytest.raises(ValidationFailed, match="not a generative AI use case"):
        record_confab(staff_user, UseCaseFactory(project=project, is_generative=False))


PLAN_METRICS = [
    {"name": "accuracy", "threshold": 0.85, "comparison": "at_least"},
    {"name": "override_rate", "threshold": 0.1, "comparison": "at_most", "unit": "share"},
]


def test_monitoring_plan_observations_and_due_dates(staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    plan = svc.monitoring_plan_create(
        actor=staff_user,
        use_case=uc,
        name="Monthly",
        metrics=PLAN_METRICS,
        frequency_days=30,
        starts_on=dt.date(2026, 4, 1),
    )
    assert (plan.next_observation_due, plan.last_observed_on, plan.status) == (dt.date(2026, 5, 1), None, "active")
    assert plan.metrics[1] == {
        "name": "override_rate",
        "unit": "share",
        "threshold": "0.100000",
        "comparison": "at_most",
    }
    ok = svc.monitoring_observation_record(
        actor=staff_user,
        plan=plan,
        observed_on=dt.date(2026, 5, 2),
        metric_values={"accuracy": 0.88, "override_rate": 0.05},
    )
    assert (ok.within_threshold, ok.breach_count, ok.corrective_action) == (True, 0, "")
    with pytest.raises(ValidationFailed) as exc:
        svc.monitoring_observation_record(
            actor=staff_user,
            plan=plan,
            observed_on=dt.date(2026, 5, 30),
            metric_values={"accuracy": 0.8, "override_rate": 0.1},
        )
    assert exc.value.errors == {
        "corrective_action": ["1 metric(s) are outside their threshold: describe the corrective action."]
    }
    breach = svc.monitoring_observation_record(
        actor=staff_user,
        plan=plan,
        observed_on=dt.date(2026, 5, 30),
        metric_values={"accuracy": 0.8, "override_rate": 0.1},
        corrective_action="Retraining scheduled; second reviewer meanwhile.",
    )
    assert (breach.within_threshold, breach.breach_count) == (False, 1)
    assert [r["within"] for r in breach.results] == [False, True]
    # An older observation recorded late does not move the schedule back.
    svc.monitoring_observation_record(
        actor=staff_user,
        plan=plan,
        observed_on=dt.date(2026, 4, 15),
        metric_values={"accuracy": 0.9, "override_rate": 0},
    )
    plan.refresh_from_db()
    assert (plan.last_observed_on, plan.next_observation_due) == (dt.date(2026, 5, 30), dt.date(2026, 6, 29))
    plan = svc.monitoring_plan_update(actor=staff_user, plan=plan, frequency_days=14)
    assert plan.next_observation_due == dt.date(2026, 6, 13)
    assert MonitoringObservation.objects.filter(plan=plan).count() == 3
    assert ledger_count() == before + 5


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"accuracy": 0.9}, "Missing values for: override_rate."),
        ({"accuracy": 0.9, "override_rate": 0, "latency": 3}, "Not metrics of this plan: latency."),
        ({"accuracy": "high", "override_rate": 0}, "accuracy: must be a number."),
        ({}, "Give a value for each metric"),
    ],
)
def test_observation_values_are_validated(values, message, staff_user, project):
    plan = MonitoringPlanFactory(use_case__project=project)
    with pytest.raises(ValidationFailed) as exc:
        svc.monitoring_observation_record(
            actor=staff_user, plan=plan, observed_on=dt.date(2026, 5, 2), metric_values=values
        )
    assert exc.value.errors["metric_values"][0].startswith(message)
    assert MonitoringObservation.objects.count() == 0


def test_one_active_plan_and_retirement(staff_user, project):
    plan = MonitoringPlanFactory(use_case__project=project)
    with pytest.raises(Conflict, match="already has an active monitoring plan"):
        svc.monitoring_plan_create(
            actor=staff_user, use_case=plan.use_case, name="Second", metrics=PLAN_METRICS, frequency_days=7
        )
    with pytest.raises(ValidationFailed) as exc:
        svc.monitoring_plan_create(
            actor=staff_user, use_case=plan.use_case, name="", metrics=[{"name": "a"}], frequency_days=0
        )
    assert set(exc.value.errors) == {"name", "metrics", "frequency_days"}
    retired = svc.monitoring_plan_retire(actor=staff_user, plan=plan, reason="Replaced")
    assert retired.status == "retired"
    with pytest.raises(InvalidTransition, match="retired; it takes no observations"):
        svc.monitoring_observation_record(
            actor=staff_user, plan=plan, observed_on=dt.date(2026, 5, 2), metric_values={"accuracy": 1}
        )
    new = svc.monitoring_plan_create(
        actor=staff_user, use_case=plan.use_case, name="Second", metrics=PLAN_METRICS, frequency_days=7
    )
    assert MonitoringPlan.objects.filter(use_case=plan.use_case).count() == 2
    assert new.next_observation_due == dt.date(2026, 6, 8)


def test_operator_training(staff_user, reviewer_user, project, other_project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    record = svc.operator_training_record(
        actor=staff_user,
        use_case=uc,
        operator=reviewer_user,
        course="Screener operations",
        completed_on=dt.date(2026, 5, 1),
    )
    assert (record.operator_name, record.expires_on, record.system_specific) == ("reviewer", dt.date(2027, 5, 1), True)
    stranger = UserFactory(username="stranger")
    with pytest.raises(ValidationFailed, match="stranger is not a member of proj-123"):
        svc.operator_training_record(
            actor=staff_user, use_case=uc, operator=stranger, course="c", completed_on=dt.date(2026, 5, 1)
        )
    with pytest.raises(ValidationFailed) as exc:
        svc.operator_training_record(actor=staff_user, use_case=uc, course="", completed_on=dt.date(2026, 5, 1))
    assert set(exc.value.errors) == {"operator_name", "course"}
    with pytest.raises(ValidationFailed, match="expires_on"):
        svc.operator_training_record(
            actor=staff_user,
            use_case=uc,
            operator_name="A",
            course="c",
            completed_on=dt.date(2026, 5, 1),
            expires_on=dt.date(2026, 5, 1),
        )
    assert (OperatorTraining.objects.count(), ledger_count()) == (1, before + 1)
