"""Pure rules of the transparency evidence: model-card completeness, fairness and monitoring thresholds,
the weighted impact score, impact-assessment sections A–G and the provenance hash."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import rfc8785
from django.core.exceptions import ImproperlyConfigured

from accountability.config import policy
from accountability.config_schema import IMPACT_DIMENSIONS
from accountability.models import FairnessMetric, ImpactAssessment, ModelCard

CENT = Decimal("0.01")
GENESIS_HASH = "0" * 64


# --- model cards -----------------------------------------------------------------------------------


def card_completeness(card: ModelCard) -> dict:
    """Which required sections of a model card are empty."""
    missing = [name for name in ModelCard.REQUIRED_SECTIONS if not str(getattr(card, name) or "").strip()]
    required = len(ModelCard.REQUIRED_SECTIONS)
    return {
        "required": list(ModelCard.REQUIRED_SECTIONS),
        "missing": missing,
        "complete": not missing,
        "percent": round(100.0 * (required - len(missing)) / required, 1),
    }


# --- fairness --------------------------------------------------------------------------------------


def _decimal(value, places: int = 4) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidOperation
    number = Decimal(str(value))
    if not number.is_finite():
        raise InvalidOperation
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def within(value: Decimal, threshold: Decimal, comparison: str) -> bool:
    """``at_most`` bounds the magnitude (a difference of -0.12 breaches 0.1); ``at_least`` bounds below."""
    if comparison == FairnessMetric.Comparison.AT_LEAST:
        return value >= threshold
    return abs(value) <= threshold


def normalise_fairness_metrics(raw) -> tuple[list[dict], list[str]]:
    """Validate subgroup metrics [{group, metric, value, threshold, comparison?, reference_group?}]."""
    if not isinstance(raw, list) or not raw:
        return [], ["Give at least one subgroup metric."]
    allowed = {"group", "reference_group", "metric", "value", "threshold", "comparison"}
    out, errors, seen = [], [], set()
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            errors.append(f"item {i}: must be an object.")
            continue
        unknown = sorted(set(item) - allowed)
        if unknown:
            errors.append(f"item {i}: unknown key(s) {', '.join(unknown)}.")
        group = str(item.get("group") or "").strip()
        metric = item.get("metric")
        if not group:
            errors.append(f"item {i}: group is required.")
        if metric not in FairnessMetric.Metric.values:
            errors.append(f"item {i}: metric must be one of {', '.join(FairnessMetric.Metric.values)}.")
            continue
        comparison = item.get("comparison") or FairnessMetric.DEFAULT_COMPARISON[metric]
        if comparison not in FairnessMetric.Comparison.values:
            errors.append(f"item {i}: comparison must be at_most or at_least.")
            continue
        try:
            value, threshold = _decimal(item.get("value")), _decimal(item.get("threshold"))
        except InvalidOperation:
            errors.append(f"item {i}: value and threshold must be numbers.")
            continue
        if abs(value) >= 100000 or threshold < 0 or threshold >= 100000:
            errors.append(f"item {i}: value must be below 100000 in magnitude and threshold between 0 and 100000.")
            continue
        if (group, metric) in seen:
            errors.append(f"item {i}: {metric} for group '{group}' is given twice.")
            continue
        seen.add((group, metric))
        out.append(
            {
                "group": group[:120],
                "reference_group": str(item.get("reference_group") or "").strip()[:120],
                "metric": metric,
                "value": value,
                "threshold": threshold,
                "comparison": comparison,
                "within_threshold": within(value, threshold, comparison),
            }
        )
    return out, errors


# --- monitoring ------------------------------------------------------------------------------------


def normalise_monitoring_metrics(raw) -> tuple[list[dict], list[str]]:
    """Validate a plan's metric definitions [{name, threshold, comparison, unit?}]."""
    if not isinstance(raw, list) or not raw:
        return [], ["Give at least one metric to monitor."]
    out, errors, names = [], [], set()
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            errors.append(f"item {i}: must be an object.")
            continue
        unknown = sorted(set(item) - {"name", "unit", "threshold", "comparison"})
        if unknown:
            errors.append(f"item {i}: unknown key(s) {', '.join(unknown)}.")
        name = str(item.get("name") or "").strip()
        if not name:
            errors.append(f"item {i}: name is required.")
            continue
        if name in names:
            errors.append(f"item {i}: metric '{name}' is defined twice.")
            continue
        comparison = item.get("comparison")
        if comparison not in FairnessMetric.Comparison.values:
            errors.append(f"item {i}: comparison must be at_most or at_least.")
            continue
        try:
            threshold = _decimal(item.get("threshold"), 6)
        except InvalidOperation:
            errors.append(f"item {i}: threshold must be a number.")
            continue
        names.add(name)
        out.append(
            {"name": name, "unit": str(item.get("unit") or ""), "threshold": str(threshold), "comparison": comparison}
        )
    return out, errors


def evaluate_observation(metrics: list[dict], values) -> tuple[list[dict], list[str]]:
    """Compare observed values with the plan's thresholds; every plan metric needs a value."""
    if not isinstance(values, dict) or not values:
        return [], ["Give a value for each metric of the plan, as {name: number}."]
    errors = []
    defined = {m["name"]: m for m in metrics}
    unknown = sorted(set(values) - set(defined))
    if unknown:
        errors.append(f"Not metrics of this plan: {', '.join(unknown)}.")
    missing = sorted(set(defined) - set(values))
    if missing:
        errors.append(f"Missing values for: {', '.join(missing)}.")
    results = []
    for name, spec in defined.items():
        if name not in values:
            continue
        try:
            value = _decimal(values[name], 6)
        except InvalidOperation:
            errors.append(f"{name}: must be a number.")
            continue
        threshold = Decimal(spec["threshold"])
        # Monitoring thresholds are one-sided bounds on the value itself (an error rate, a latency).
        ok = value >= threshold if spec["comparison"] == "at_least" else value <= threshold
        results.append(
            {
                "name": name,
                "value": str(value),
                "threshold": spec["threshold"],
                "comparison": spec["comparison"],
                "within": ok,
            }
        )
    return results, errors


# --- impact assessments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreParameters:
    weights: dict[str, Decimal]
    high: Decimal
    medium: Decimal

    def as_dict(self) -> dict:
        return {
            "weights": {k: str(v) for k, v in self.weights.items()},
            "thresholds": {"high": str(self.high), "medium": str(self.medium)},
            "source": "policy file (portal default)",
        }


def score_parameters() -> ScoreParameters:
    """Weights and thresholds from the policy file; the weights must sum to 1 and high must exceed medium."""
    section = policy()["impact_assessment"]
    weights = {name: Decimal(str(section["weights"][name])) for name in IMPACT_DIMENSIONS}
    high, medium = Decimal(str(section["thresholds"]["high"])), Decimal(str(section["thresholds"]["medium"]))
    if sum(weights.values()) != 1:
        raise ImproperlyConfigured(f"impact_assessment.weights must sum to 1, not {sum(weights.values())}.")
    if not medium < high:
        raise ImproperlyConfigured("impact_assessment.thresholds: medium must be below high.")
    return ScoreParameters(weights, high, medium)


def weighted_score(scores: dict[str, Decimal], params: ScoreParameters) -> Decimal:
    """Σ weight × score over the six dimensions, rounded half-up to 0.01 (exact decimal arithmetic)."""
    total = sum((params.weights[name] * Decimal(scores[name]) for name in IMPACT_DIMENSIONS), Decimal(0))
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def classify(score: Decimal, params: ScoreParameters) -> str:
    """high when score ≥ high threshold, medium when ≥ medium, else low (on the rounded score users see)."""
    if score >= params.high:
        return ImpactAssessment.RiskClass.HIGH
    if score >= params.medium:
        return ImpactAssessment.RiskClass.MEDIUM
    return ImpactAssessment.RiskClass.LOW


def normalise_scores(raw) -> tuple[dict[str, Decimal], dict[str, list[str]]]:
    """Validate {dimension: 0-100} for all six dimensions (two decimal places at most)."""
    if not isinstance(raw, dict):
        return {}, {"scores": ["Give the six dimension scores as an object."]}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(raw) - set(IMPACT_DIMENSIONS))
    if unknown:
        errors["scores"] = [f"Unknown dimension(s): {', '.join(unknown)}."]
    out = {}
    for name in IMPACT_DIMENSIONS:
        if name not in raw or raw[name] is None:
            errors[f"scores.{name}"] = ["Required (0–100)."]
            continue
        try:
            value = Decimal(str(raw[name])) if not isinstance(raw[name], bool) else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or not 0 <= value <= 100 or value != value.quantize(CENT):
            errors[f"scores.{name}"] = ["Must be a number from 0 to 100 with at most two decimals."]
            continue
        out[name] = value.quantize(CENT)
    return out, errors


SECTION_TITLES = {
    "A": "Purpose and expected benefits, with metrics",
    "B": "Quality and fitness of the data, including protected-class information",
    "C": "Privacy, civil-rights and civil-liberties impacts and mitigations",
    "D": "Reassessment schedule and procedures",
    "E": "Costs",
    "F": "Independent review",
    "G": "Signed risk acceptance",
}


def section_gaps(assessment: ImpactAssessment, *, involves_pii: bool | None) -> dict[str, list[str]]:
    """For each section A–G, what is missing (an empty list means the section is complete)."""

    def blank(name: str) -> bool:
        return not str(getattr(assessment, name) or "").strip()

    gaps: dict[str, list[str]] = {key: [] for key in SECTION_TITLES}
    if blank("purpose_and_benefits"):
        gaps["A"].append("purpose_and_benefits")
    if not assessment.benefit_metrics:
        gaps["A"].append("benefit_metrics")
    for name in ("data_quality", "protected_class_data"):
        if blank(name):
            gaps["B"].append(name)
    for name in ("rights_impacts", "mitigations"):
        if blank(name):
            gaps["C"].append(name)
    if involves_pii and blank("pia_url"):
        gaps["C"].append("pia_url")
    if not assessment.reassessment_frequency_days:
        gaps["D"].append("reassessment_frequency_days")
    if blank("reassessment_procedures"):
        gaps["D"].append("reassessment_procedures")
    if blank("costs"):
        gaps["E"].append("costs")
    if assessment.reviewed_at is None:
        gaps["F"].append("independent_review")
    if assessment.risk_accepted_at is None:
        gaps["G"].append("risk_acceptance")
    return gaps


def benefit_metric_errors(raw) -> list[str]:
    """benefit_metrics is a list of {name, target, baseline?} with non-empty name and target."""
    if not isinstance(raw, list):
        return ["Must be a list of {name, target, baseline?}."]
    errors = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or set(item) - {"name", "target", "baseline"}:
            errors.append(f"item {i}: an object with name, target and optionally baseline.")
        elif not str(item.get("name") or "").strip() or not str(item.get("target") or "").strip():
            errors.append(f"item {i}: name and target are required.")
    return errors


# --- provenance ------------------------------------------------------------------------------------


def provenance_hash(
    *,
    project_key: str,
    use_case_id: str,
    sequence: int,
    trace_id: str,
    data_sources: list[str],
    model_name: str,
    model_version: str,
    output_reference: str,
    output_hash: str,
    generated_at: dt.datetime,
    previous_hash: str,
) -> str:
    """SHA-256 over the RFC 8785 canonical JSON of a record's content and its predecessor's hash."""
    body = {
        "v": 1,
        "project": project_key,
        "use_case": use_case_id,
        "seq": sequence,
        "trace_id": trace_id,
        "data_sources": list(data_sources),
        "model": {"name": model_name, "version": model_version},
        "output": {"ref": output_reference, "sha256": output_hash},
        # Microsecond ISO-8601 in UTC, so PostgreSQL and SQLite round-trips hash the same.
        "generated_at": generated_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "prev": previous_hash,
    }
    return hashlib.sha256(b"icdev/provenance/v1\x00" + rfc8785.dumps(body)).hexdigest()


def record_hash_of(record) -> str:
    """The hash a provenance record's stored content should have."""
    return provenance_hash(
        project_key=record.project.key,
        use_case_id=record.use_case.public_id,
        sequence=record.sequence,
        trace_id=record.trace_id,
        data_sources=record.data_sources,
        model_name=record.model_name,
        model_version=record.model_version,
        output_reference=record.output_reference,
        output_hash=record.output_hash,
        generated_at=record.generated_at,
        previous_hash=record.previous_hash,
    )


@dataclass
class ChainReport:
    """Outcome of verifying one use case's provenance chain."""

    use_case_id: str
    total: int = 0
    verified: int = 0
    broken: list[dict] = field(default_factory=list)

    @property
    def percent_verifiable(self) -> float:
        return 100.0 if not self.total else round(100.0 * self.verified / self.total, 2)

    def as_dict(self) -> dict:
        return {
            "use_case_id": self.use_case_id,
            "total": self.total,
            "verified": self.verified,
            "broken": self.broken,
            "percent_verifiable": self.percent_verifiable,
        }
