"""Ethics-review rubrics (D319) and quorum rules from the governance policy.

A rubric is versioned configuration: criteria, each with a scale, a weight and optionally a veto
threshold, and the aggregate thresholds that recommend a decision. A review keeps a snapshot of the
rubric and quorum rule it started with, so later policy edits never change a running or past review.
Scores are validated with a JSON Schema generated from the rubric.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import jsonschema

from accountability.config import policy

DECISION_RANK = {"reject": 0, "approve_with_conditions": 1, "approve": 2}


def rubric_choices() -> list[tuple[str, int]]:
    """(key, version) of every rubric in the policy."""
    return [(r["key"], r["version"]) for r in policy()["ethics"]["rubrics"]]


def quorum_names() -> list[str]:
    """Names of the quorum rules in the policy."""
    return sorted(policy()["ethics"]["quorum_rules"])


def rubric_snapshot(key: str = "", version: int | None = None) -> dict | None:
    """The rubric ``key`` at ``version`` (its latest version when omitted); the default rubric for ''."""
    section = policy()["ethics"]
    key = key or section["default_rubric"]
    candidates = [r for r in section["rubrics"] if r["key"] == key]
    if version is not None:
        candidates = [r for r in candidates if r["version"] == version]
    if not candidates:
        return None
    return dict(max(candidates, key=lambda r: r["version"]))


def quorum_snapshot(name: str = "") -> dict | None:
    """The quorum rule ``name`` (the default rule for ''), with its name."""
    section = policy()["ethics"]
    name = name or section["default_quorum"]
    rule = section["quorum_rules"].get(name)
    return {"name": name, **rule} if rule is not None else None


def _scale(rubric: dict, criterion: dict) -> tuple[int, int]:
    scale = criterion.get("scale") or rubric["scale"]
    return scale["min"], scale["max"]


def score_schema(rubric: dict) -> dict:
    """The JSON Schema a reviewer's scores must satisfy: one integer per criterion within its scale."""
    properties = {}
    for criterion in rubric["criteria"]:
        low, high = _scale(rubric, criterion)
        properties[criterion["id"]] = {"type": "integer", "minimum": low, "maximum": high}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Scores for rubric {rubric['key']} v{rubric['version']}",
        "type": "object",
        "properties": properties,
        "required": [c["id"] for c in rubric["criteria"]],
        "additionalProperties": False,
    }


def score_errors(rubric: dict, scores) -> list[str]:
    """Messages for scores that do not satisfy the rubric (empty when valid)."""
    validator = jsonschema.Draft202012Validator(score_schema(rubric))
    messages = []
    for error in sorted(validator.iter_errors(scores), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in error.path)
        messages.append(f"{where}: {error.message}" if where else error.message)
    return messages


def rubric_errors(rubric: dict) -> list[str]:
    """Consistency problems the policy schema cannot express (duplicate ids, bad scales, thresholds)."""
    errors = []
    ids = [c["id"] for c in rubric["criteria"]]
    if len(set(ids)) != len(ids):
        errors.append(f"rubric {rubric['key']} v{rubric['version']}: criterion ids must be unique.")
    for criterion in rubric["criteria"]:
        low, high = _scale(rubric, criterion)
        if low >= high:
            errors.append(f"criterion {criterion['id']}: the scale minimum must be below its maximum.")
        veto = criterion.get("veto_below")
        if veto is not None and not low < veto <= high:
            errors.append(f"criterion {criterion['id']}: veto_below must lie within its scale.")
    thresholds = rubric["thresholds"]
    if thresholds["approve"] < thresholds["approve_with_conditions"]:
        errors.append("thresholds: approve must not be below approve_with_conditions.")
    return errors


def _normalised(rubric: dict, criterion: dict, value: int) -> Decimal:
    """A score on the rubric's common 0..1 range, so criteria with different scales combine."""
    low, high = _scale(rubric, criterion)
    return (Decimal(value) - low) / (Decimal(high) - low)


def weighted_score(rubric: dict, scores: dict) -> Decimal:
    """One reviewer's weighted mean on the 0..1 range (3 decimals)."""
    total_weight = sum(Decimal(str(c["weight"])) for c in rubric["criteria"])
    weighted = sum(Decimal(str(c["weight"])) * _normalised(rubric, c, scores[c["id"]]) for c in rubric["criteria"])
    return (weighted / total_weight).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


@dataclass
class Tally:
    """The outcome of one scoring round."""

    scored: int
    recused: int
    missed: int
    board_size: int
    quorum_met: bool
    quorum_reasons: list[str] = field(default_factory=list)
    aggregate: Decimal | None = None  # weighted mean on the 0..1 range, 3 decimals
    vetoes: list[dict] = field(default_factory=list)
    recommendation: str = ""


def quorum_check(rule: dict, board: list[dict], scored_disciplines: list[str]) -> list[str]:
    """Why a quorum is not reached (empty when it is). ``board`` items carry their ``discipline``."""
    reasons = []
    needed = max(rule["min_scores"], _ceil(Decimal(str(rule.get("min_fraction", 0))) * len(board)))
    if len(scored_disciplines) < needed:
        reasons.append(f"{len(scored_disciplines)} of the {needed} scores the quorum needs")
    for discipline in rule.get("required_disciplines", []):
        if discipline not in scored_disciplines:
            reasons.append(f"no {discipline.replace('_', '-')} score")
    return reasons


def quorum_feasible(rule: dict, board: list[dict]) -> list[str]:
    """Why a board can never reach the quorum (empty when it can)."""
    return quorum_check(rule, board, [m["discipline"] for m in board])


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def tally(rubric: dict, rule: dict, board: list[dict], results: list[dict]) -> Tally:
    """Aggregate a round. ``results`` items: {disposition, discipline, scores}. The aggregate is the mean
    over reviewers of each reviewer's weighted mean; any score below a criterion's ``veto_below`` vetoes."""
    scored = [r for r in results if r["disposition"] == "scored"]
    reasons = quorum_check(rule, board, [r["discipline"] for r in scored])
    result = Tally(
        scored=len(scored),
        recused=sum(1 for r in results if r["disposition"] == "recused"),
        missed=sum(1 for r in results if r["disposition"] == "missed"),
        board_size=len(board),
        quorum_met=not reasons,
        quorum_reasons=reasons,
    )
    if not scored:
        return result
    means = []
    for r in scored:
        means.append(weighted_score(rubric, r["scores"]))
        for c in rubric["criteria"]:
            veto = c.get("veto_below")
            if veto is not None and r["scores"][c["id"]] < veto:
                result.vetoes.append({"criterion": c["id"], "score": r["scores"][c["id"]], "veto_below": veto})
    result.aggregate = (sum(means) / len(means)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    result.recommendation = recommend(rubric, result.aggregate, bool(result.vetoes))
    return result


def recommend(rubric: dict, aggregate: Decimal, vetoed: bool) -> str:
    """The most favourable decision the aggregate and vetoes allow."""
    if vetoed:
        return "reject"
    thresholds = rubric["thresholds"]
    if aggregate >= Decimal(str(thresholds["approve"])):
        return "approve"
    if aggregate >= Decimal(str(thresholds["approve_with_conditions"])):
        return "approve_with_conditions"
    return "reject"
