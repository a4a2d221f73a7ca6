"""Validation of use-case fields that the model's own validators cannot express."""

from __future__ import annotations

from accountability.models import AIUseCase

HighImpact = AIUseCase.HighImpact
Stage = AIUseCase.Stage

# Guarded stage transitions; retired is terminal because inventory ids are never reused.
STAGE_TRANSITIONS: dict[str, set[str]] = {
    Stage.PRE_DEPLOYMENT: {Stage.PILOT, Stage.DEPLOYED, Stage.RETIRED},
    Stage.PILOT: {Stage.PRE_DEPLOYMENT, Stage.DEPLOYED, Stage.RETIRED},
    Stage.DEPLOYED: {Stage.PILOT, Stage.RETIRED},
    Stage.RETIRED: set(),
}


def determination_errors(determination: str, bases: list, categories: list, justification: str) -> dict:
    """Field errors for a high-impact determination (M-25-21 §4(a), §5, §6)."""
    errors: dict[str, list[str]] = {}
    valid_bases = set(AIUseCase.HighImpactBasis.values)
    valid_categories = set(AIUseCase.PresumedCategory.values)
    if not isinstance(bases, list) or any(b not in valid_bases for b in bases):
        errors["high_impact_bases"] = [f"Each basis must be one of: {', '.join(sorted(valid_bases))}."]
    elif len(set(bases)) != len(bases):
        errors["high_impact_bases"] = ["A basis is listed twice."]
    if not isinstance(categories, list) or any(c not in valid_categories for c in categories):
        errors["presumed_categories"] = ["Each category must be a letter from a to o (M-25-21 §6)."]
    elif len(set(categories)) != len(categories):
        errors["presumed_categories"] = ["A category is listed twice."]
    if determination not in HighImpact.values:
        errors["high_impact_determination"] = [f"Must be one of: {', '.join(HighImpact.values)}."]
        return errors
    if determination == HighImpact.HIGH and not bases and not errors.get("high_impact_bases"):
        errors["high_impact_bases"] = ["A high-impact determination names at least one basis (M-25-21 §5)."]
    if determination == HighImpact.PRESUMED_DETERMINED_NOT:
        if not (justification or "").strip():
            errors["high_impact_justification"] = [
                "A presumed high-impact use determined not to be high-impact needs a written justification "
                "for the CAIO (M-25-21 §4(a))."
            ]
        if not categories and "presumed_categories" not in errors:
            errors["presumed_categories"] = ["Name the §6 category that made the use presumed high-impact."]
    if determination == HighImpact.NOT_HIGH and categories:
        errors["high_impact_determination"] = [
            "A use in a presumed high-impact category (§6) is high-impact unless determined not, with a "
            "written justification: use presumed_high_determined_not."
        ]
    return errors


def minimum_practices_errors(practices) -> dict:
    """Field errors for the minimum-practices status map."""
    if not isinstance(practices, dict):
        return {"minimum_practices": ["Must be an object mapping each practice to a status."]}
    unknown = sorted(set(practices) - set(AIUseCase.MINIMUM_PRACTICES))
    if unknown:
        return {"minimum_practices": [f"Unknown practice(s): {', '.join(unknown)}."]}
    bad = sorted(k for k, v in practices.items() if v not in AIUseCase.PracticeStatus.values)
    if bad:
        return {
            "minimum_practices": [
                f"Status of {', '.join(bad)} must be one of: {', '.join(AIUseCase.PracticeStatus.values)}."
            ]
        }
    return {}
