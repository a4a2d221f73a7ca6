"""Measured evidence: fairness assessments, confabulation checks, monitoring plans and observations, and
operator training records. Results are computed here from the inputs, so stored results never disagree
with the numbers they summarise."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accountability.actors import history_user
from accountability.config import policy
from accountability.exceptions import Conflict, InvalidTransition, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import (
    AIUseCase,
    ConfabulationCheck,
    EvidenceStatus,
    FairnessAssessment,
    FairnessMetric,
    Membership,
    MonitoringObservation,
    MonitoringPlan,
    OperatorTraining,
)
from accountability.permissions import Perm, require
from accountability.rules.evidence import evaluate_observation, normalise_fairness_metrics, normalise_monitoring_metrics

from ._common import full_clean, jsonable, raise_if, tracked_save
from ._evidence_common import days_after, past_date, require_on_use_case, required_text


def _settings() -> dict:
    return policy()["evidence"]


# --- fairness ------------------------------------------------------------------------------------------


@transaction.atomic
def fairness_assessment_record(
    *,
    actor,
    use_case: AIUseCase,
    model_name: str,
    model_version: str,
    performed_on: dt.date,
    method: str,
    metrics: list[dict],
    dataset: str = "",
    performed_by_name: str = "",
    overall_result: str | None = None,
    mitigation: str = "",
    next_due_on: dt.date | None = None,
    notes: str = "",
) -> FairnessAssessment:
    """Record a fairness assessment with its subgroup metrics; the result follows from the thresholds."""
    require_on_use_case(actor, use_case, Perm.EVIDENCE_EDIT)
    errors: dict[str, list[str]] = {}
    text = required_text(errors, model_name=model_name, model_version=model_version, method=method)
    past_date(errors, "performed_on", performed_on)
    rows, metric_errors = normalise_fairness_metrics(metrics)
    if metric_errors:
        errors["metrics"] = metric_errors
    raise_if(errors)
    breaches = sum(1 for r in rows if not r["within_threshold"])
    Result = FairnessAssessment.Result
    if overall_result in (None, ""):
        overall_result = Result.PASS if not breaches else Result.FAIL
    elif overall_result not in Result.values:
        errors["overall_result"] = [f"Must be one of: {', '.join(Result.values)}."]
    elif overall_result == Result.PASS and breaches:
        errors["overall_result"] = [f"{breaches} metric(s) are outside their threshold; the result cannot be pass."]
    elif overall_result == Result.MITIGATED and not breaches:
        errors["overall_result"] = ["Every metric is within its threshold; there is nothing to mitigate."]
    if overall_result == Result.MITIGATED and not (mitigation or "").strip():
        errors["mitigation"] = ["Describe the mitigation of the breaches."]
    due = next_due_on or days_after(performed_on, _settings()["fairness_freshness_days"])
    if not isinstance(due, dt.date) or due <= performed_on:
        errors["next_due_on"] = ["Must be a date after the assessment."]
    raise_if(errors)
    assessment = FairnessAssessment(
        project=use_case.project,
        use_case=use_case,
        performed_on=performed_on,
        performed_by_name=(performed_by_name or "").strip(),
        dataset=(dataset or "").strip(),
        overall_result=overall_result,
        breach_count=breaches,
        mitigation=(mitigation or "").strip(),
        next_due_on=due,
        notes=(notes or "").strip(),
        created_by=history_user(actor),
        **text,
    )
    full_clean(assessment)
    tracked_save(assessment, actor=actor, reason="fairness assessment recorded")
    for row in rows:
        metric = FairnessMetric(assessment=assessment, **row)
        full_clean(metric, exclude=["assessment"])
        tracked_save(metric, actor=actor, reason=f"metric of {assessment.public_id}")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="fairness_assessment.record",
        description=f"{assessment.public_id}: fairness of {assessment.model_name} {assessment.model_version} "
        f"({use_case.public_id}) {overall_result}, {breaches} breach(es) in {len(rows)} metric(s)",
        subject=assessment,
        changes=jsonable(
            {
                "performed_on": performed_on,
                "method": text["method"],
                "overall_result": overall_result,
                "next_due_on": due,
                "metrics": rows,
            }
        ),
    )
    return assessment


def _retract(actor, obj, reason: str, kind: str):
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the record is retracted."]})
    if obj.status == EvidenceStatus.RETRACTED:
        raise InvalidTransition(f"{obj.public_id} is already retracted.")
    obj.status, obj.retracted_at, obj.retracted_by = EvidenceStatus.RETRACTED, timezone.now(), history_user(actor)
    obj.retraction_reason = reason.strip()
    tracked_save(obj, actor=actor, reason=f"{kind} retracted")
    record_governance(
        actor=actor,
        project=obj.project,
        action_type=f"{kind}.retract",
        description=f"{obj.public_id} retracted; it no longer counts as evidence",
        subject=obj,
        rationale=reason.strip(),
    )
    return obj


@transaction.atomic
def fairness_assessment_retract(*, actor, assessment: FairnessAssessment, reason: str) -> FairnessAssessment:
    """Withdraw an assessment recorded in error; it stays readable but no longer counts."""
    require(actor, assessment.project, Perm.EVIDENCE_EDIT)
    assessment = FairnessAssessment.objects.select_for_update().get(pk=assessment.pk)
    return _retract(actor, assessment, reason, "fairness_assessment")


# --- confabulation ---------------------------------------------------------------------------------------


def _rate(value, name: str, errors: dict) -> Decimal | None:
    try:
        rate = Decimal(str(value)) if not isinstance(value, bool) else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not 0 <= rate <= 1:
        errors[name] = ["Must be a fraction between 0 and 1."]
        return None
    return rate.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


@transaction.atomic
def confabulation_check_record(
    *,
    actor,
    use_case: AIUseCase,
    model_name: str,
    model_version: str,
    checked_on: dt.date,
    method: str,
    sample_size: int,
    errors_found: int,
    checks_citations: bool = False,
    checks_sources: bool = False,
    checks_factual_claims: bool = False,
    near_misses: int = 0,
    max_error_rate=None,
    notes: str = "",
) -> ConfabulationCheck:
    """Record a confabulation check of a generative use case; it passes when the error rate is within the limit."""
    require_on_use_case(actor, use_case, Perm.EVIDENCE_EDIT)
    errors: dict[str, list[str]] = {}
    if not use_case.is_generative:
        errors["use_case"] = [f"{use_case.public_id} is not a generative AI use case."]
    text = required_text(errors, model_name=model_name, model_version=model_version, method=method)
    past_date(errors, "checked_on", checked_on)
    if not (checks_citations or checks_sources or checks_factual_claims):
        errors["non_field_errors"] = ["Say what was checked: citations, sources and/or factual claims."]
    for name, value, low in (
        ("sample_size", sample_size, 1),
        ("errors_found", errors_found, 0),
        ("near_misses", near_misses, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            errors[name] = [f"Must be a whole number of at least {low}."]
    if "sample_size" not in errors and "errors_found" not in errors and errors_found > sample_size:
        errors["errors_found"] = ["Cannot exceed the sample size."]
    limit = _rate(
        _settings()["confabulation_max_error_rate"] if max_error_rate is None else max_error_rate,
        "max_error_rate",
        errors,
    )
    raise_if(errors)
    rate = (Decimal(errors_found) / Decimal(sample_size)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    result = ConfabulationCheck.Result.PASS if rate <= limit else ConfabulationCheck.Result.FAIL
    check = ConfabulationCheck(
        project=use_case.project,
        use_case=use_case,
        checked_on=checked_on,
        checks_citations=bool(checks_citations),
        checks_sources=bool(checks_sources),
        checks_factual_claims=bool(checks_factual_claims),
        sample_size=sample_size,
        errors_found=errors_found,
        near_misses=near_misses,
        error_rate=rate,
        max_error_rate=limit,
        result=result,
        notes=(notes or "").strip(),
        created_by=history_user(actor),
        **text,
    )
    full_clean(check)
    tracked_save(check, actor=actor, reason="confabulation check recorded")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="confabulation_check.record",
        description=f"{check.public_id}: {errors_found}/{sample_size} confabulated outputs in {use_case.public_id} "
        f"({result})",
        subject=check,
        changes=jsonable({"checked_on": checked_on, "error_rate": rate, "max_error_rate": limit, "result": result}),
    )
    return check


@transaction.atomic
def confabulation_check_retract(*, actor, check: ConfabulationCheck, reason: str) -> ConfabulationCheck:
    """Withdraw a check recorded in error; it stays readable but no longer counts."""
    require(actor, check.project, Perm.EVIDENCE_EDIT)
    check = ConfabulationCheck.objects.select_for_update().get(pk=check.pk)
    return _retract(actor, check, reason, "confabulation_check")


# --- monitoring ------------------------------------------------------------------------------------------

PLAN_FIELDS = {
    "name",
    "metrics",
    "frequency_days",
    "monitors_performance",
    "monitors_security",
    "monitors_rights_impacts",
    "human_review",
}


def _plan_errors(name, metrics, frequency_days) -> tuple[list[dict], dict]:
    errors: dict[str, list[str]] = {}
    if not str(name or "").strip():
        errors["name"] = ["This field is required."]
    rows, metric_errors = normalise_monitoring_metrics(metrics)
    if metric_errors:
        errors["metrics"] = metric_errors
    if isinstance(frequency_days, bool) or not isinstance(frequency_days, int) or not 1 <= frequency_days <= 3660:
        errors["frequency_days"] = ["Must be a whole number of days from 1 to 3660."]
    return rows, errors


@transaction.atomic
def monitoring_plan_create(
    *,
    actor,
    use_case: AIUseCase,
    name: str,
    metrics: list[dict],
    frequency_days: int,
    starts_on: dt.date | None = None,
    monitors_performance: bool = True,
    monitors_security: bool = False,
    monitors_rights_impacts: bool = False,
    human_review: str = "",
) -> MonitoringPlan:
    """Start monitoring a use case: metrics with thresholds and a frequency; the first cycle is due one period on."""
    require_on_use_case(actor, use_case, Perm.EVIDENCE_EDIT)
    AIUseCase.objects.select_for_update().filter(pk=use_case.pk).first()
    rows, errors = _plan_errors(name, metrics, frequency_days)
    starts_on = starts_on or timezone.localdate()
    if not isinstance(starts_on, dt.date):
        errors["starts_on"] = ["Must be a date."]
    raise_if(errors)
    if MonitoringPlan.objects.filter(use_case=use_case, status=MonitoringPlan.Status.ACTIVE).exists():
        raise Conflict(f"{use_case.public_id} already has an active monitoring plan; change or retire it.")
    plan = MonitoringPlan(
        project=use_case.project,
        use_case=use_case,
        name=name.strip(),
        metrics=rows,
        frequency_days=frequency_days,
        monitors_performance=bool(monitors_performance),
        monitors_security=bool(monitors_security),
        monitors_rights_impacts=bool(monitors_rights_impacts),
        human_review=(human_review or "").strip(),
        starts_on=starts_on,
        next_observation_due=days_after(starts_on, frequency_days),
        created_by=history_user(actor),
    )
    full_clean(plan)
    tracked_save(plan, actor=actor, reason="monitoring plan created")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="monitoring_plan.create",
        description=f"{plan.public_id}: {use_case.public_id} monitored every {frequency_days} days",
        subject=plan,
        changes=jsonable({"metrics": rows, "frequency_days": frequency_days, "starts_on": starts_on}),
    )
    return plan


@transaction.atomic
def monitoring_plan_update(*, actor, plan: MonitoringPlan, **changes) -> MonitoringPlan:
    """Change an active plan's metrics, frequency or scope; the next due date follows the new frequency."""
    require(actor, plan.project, Perm.EVIDENCE_EDIT)
    plan = MonitoringPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != MonitoringPlan.Status.ACTIVE:
        raise InvalidTransition(f"{plan.public_id} is retired.")
    unknown = sorted(set(changes) - PLAN_FIELDS)
    if unknown:
        raise ValidationFailed({f: ["Unknown field."] for f in unknown})
    merged = {name: changes.get(name, getattr(plan, name)) for name in PLAN_FIELDS}
    rows, errors = _plan_errors(merged["name"], merged["metrics"], merged["frequency_days"])
    raise_if(errors)
    merged["metrics"], merged["name"] = rows, merged["name"].strip()
    diff = {k: [jsonable(getattr(plan, k)), jsonable(v)] for k, v in merged.items() if getattr(plan, k) != v}
    if not diff:
        return plan
    for key, value in merged.items():
        setattr(plan, key, value)
    plan.next_observation_due = days_after(plan.last_observed_on or plan.starts_on, plan.frequency_days)
    full_clean(plan)
    tracked_save(plan, actor=actor, reason="monitoring plan changed")
    record_governance(
        actor=actor,
        project=plan.project,
        action_type="monitoring_plan.update",
        description=f"{plan.public_id} changed",
        subject=plan,
        changes=diff,
    )
    return plan


@transaction.atomic
def monitoring_plan_retire(*, actor, plan: MonitoringPlan, reason: str) -> MonitoringPlan:
    """Stop a monitoring plan (e.g. the use case was retired or a new plan replaces it)."""
    require(actor, plan.project, Perm.EVIDENCE_EDIT)
    plan = MonitoringPlan.objects.select_for_update().get(pk=plan.pk)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why monitoring stops."]})
    if plan.status != MonitoringPlan.Status.ACTIVE:
        raise InvalidTransition(f"{plan.public_id} is already retired.")
    plan.status, plan.retired_at, plan.retirement_reason = MonitoringPlan.Status.RETIRED, timezone.now(), reason.strip()
    tracked_save(plan, actor=actor, reason="monitoring plan retired")
    record_governance(
        actor=actor,
        project=plan.project,
        action_type="monitoring_plan.retire",
        description=f"{plan.public_id} retired",
        subject=plan,
        rationale=reason.strip(),
    )
    return plan


@transaction.atomic
def monitoring_observation_record(
    *,
    actor,
    plan: MonitoringPlan,
    observed_on: dt.date,
    metric_values: dict,
    corrective_action: str = "",
    human_reviewed: bool = False,
    notes: str = "",
) -> MonitoringObservation:
    """Record one monitoring cycle; a value outside its threshold needs a corrective action."""
    require(actor, plan.project, Perm.EVIDENCE_EDIT)
    plan = MonitoringPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != MonitoringPlan.Status.ACTIVE:
        raise InvalidTransition(f"{plan.public_id} is retired; it takes no observations.")
    errors: dict[str, list[str]] = {}
    if past_date(errors, "observed_on", observed_on) and observed_on < plan.starts_on:
        errors["observed_on"] = [f"The plan starts on {plan.starts_on.isoformat()}."]
    results, value_errors = evaluate_observation(plan.metrics, metric_values)
    if value_errors:
        errors["metric_values"] = value_errors
    raise_if(errors)
    breaches = sum(1 for r in results if not r["within"])
    if breaches and not (corrective_action or "").strip():
        raise ValidationFailed(
            {
                "corrective_action": [
                    f"{breaches} metric(s) are outside their threshold: describe the corrective action."
                ]
            }
        )
    observation = MonitoringObservation(
        plan=plan,
        project=plan.project,
        use_case_id=plan.use_case_id,
        observed_on=observed_on,
        metric_values={r["name"]: r["value"] for r in results},
        results=results,
        within_threshold=not breaches,
        breach_count=breaches,
        corrective_action=(corrective_action or "").strip(),
        human_reviewed=bool(human_reviewed),
        notes=(notes or "").strip(),
        created_by=history_user(actor),
    )
    full_clean(observation)
    tracked_save(observation, actor=actor, reason="monitoring observation recorded")
    if plan.last_observed_on is None or observed_on >= plan.last_observed_on:
        plan.last_observed_on = observed_on
        plan.next_observation_due = days_after(observed_on, plan.frequency_days)
        tracked_save(plan, actor=actor, reason=f"observed on {observed_on.isoformat()}")
    record_governance(
        actor=actor,
        project=plan.project,
        action_type="monitoring_observation.record",
        description=f"{observation.public_id}: {plan.public_id} observed on {observed_on.isoformat()}, "
        + ("within thresholds" if not breaches else f"{breaches} breach(es)"),
        subject=observation,
        changes=jsonable({"results": results, "corrective_action": observation.corrective_action}),
    )
    return observation


# --- operator training -------------------------------------------------------------------------------------


@transaction.atomic
def operator_training_record(
    *,
    actor,
    use_case: AIUseCase,
    course: str,
    completed_on: dt.date,
    operator=None,
    operator_name: str = "",
    provider: str = "",
    system_specific: bool = True,
    assessment_passed: bool | None = None,
    expires_on: dt.date | None = None,
    certificate_url: str = "",
) -> OperatorTraining:
    """Record an operator's completed training on the use case; it counts until it expires."""
    require_on_use_case(actor, use_case, Perm.EVIDENCE_EDIT)
    errors: dict[str, list[str]] = {}
    if operator is not None:
        if not isinstance(operator, get_user_model()):
            errors["operator"] = ["Must be a user."]
        elif not Membership.objects.filter(project=use_case.project, user=operator).exists():
            errors["operator"] = [f"{operator.get_username()} is not a member of {use_case.project.key}."]
        elif not (operator_name or "").strip():
            operator_name = operator.get_full_name() or operator.get_username()
    text = required_text(errors, operator_name=operator_name, course=course)
    past_date(errors, "completed_on", completed_on)
    raise_if(errors)
    expires_on = expires_on or days_after(completed_on, _settings()["training_validity_days"])
    if not isinstance(expires_on, dt.date) or expires_on <= completed_on:
        raise ValidationFailed({"expires_on": ["Must be a date after completion."]})
    record = OperatorTraining(
        project=use_case.project,
        use_case=use_case,
        operator=operator,
        provider=(provider or "").strip(),
        system_specific=bool(system_specific),
        assessment_passed=assessment_passed,
        completed_on=completed_on,
        expires_on=expires_on,
        certificate_url=(certificate_url or "").strip(),
        created_by=history_user(actor),
        **text,
    )
    full_clean(record)
    tracked_save(record, actor=actor, reason="operator training recorded")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="operator_training.record",
        description=f"{record.public_id}: {record.operator_name} completed '{record.course}' for {use_case.public_id}",
        subject=record,
        changes=jsonable({"completed_on": completed_on, "expires_on": expires_on, "system_specific": system_specific}),
    )
    return record
