"""Oversight-plan content: structural validation (always) and readiness for approval."""

from __future__ import annotations

import jsonschema

from accountability.config_schema import PLAN_CONTENT_SCHEMAS

CONTENT_FIELDS = (
    "name",
    "roles",
    "escalation_path",
    "hitl_checkpoints",
    "approval_required",
    "intervention_role",
    "fail_safe",
    "fail_safe_not_applicable_reason",
)


def structure_errors(content: dict) -> dict[str, list[str]]:
    """Field errors when the JSON parts of a plan are malformed."""
    errors: dict[str, list[str]] = {}
    for field, item_schema in PLAN_CONTENT_SCHEMAS.items():
        if field not in content:
            continue
        value = content[field]
        if not isinstance(value, list):
            errors[field] = ["Must be a list."]
            continue
        validator = jsonschema.Draft202012Validator(item_schema)
        messages = [
            f"item {i + 1}: {err.message}" for i, item in enumerate(value) for err in validator.iter_errors(item)
        ]
        if messages:
            errors[field] = messages
    if (
        "escalation_path" in content
        and isinstance(content["escalation_path"], list)
        and "escalation_path" not in errors
    ):
        levels = [step.get("level") for step in content["escalation_path"]]
        if levels != sorted(levels) or len(set(levels)) != len(levels):
            errors["escalation_path"] = ["Escalation levels must be unique and in ascending order."]
    if "name" in content and not str(content["name"]).strip():
        errors["name"] = ["A plan needs a name."]
    return errors


def approval_errors(content: dict) -> dict[str, list[str]]:
    """What stops a draft from becoming the active plan (M-25-21 §4(b)(v): oversight, intervention,
    accountability, and a fail-safe when practicable)."""
    errors = structure_errors(content)
    if not content.get("roles"):
        errors.setdefault("roles", []).append("An active plan assigns at least one role.")
    if not content.get("escalation_path"):
        errors.setdefault("escalation_path", []).append("An active plan defines an escalation path.")
    if content.get("approval_required"):
        checkpoints = content.get("hitl_checkpoints") or []
        if not any(cp.get("approval_required") for cp in checkpoints if isinstance(cp, dict)):
            errors.setdefault("hitl_checkpoints", []).append(
                "Approval is required, so name at least one checkpoint that needs human approval."
            )
        for i, cp in enumerate(checkpoints, start=1):
            if isinstance(cp, dict) and cp.get("approval_required") and not cp.get("approver_roles"):
                errors.setdefault("hitl_checkpoints", []).append(f"item {i}: name who may approve.")
    if not str(content.get("intervention_role", "")).strip():
        errors.setdefault("intervention_role", []).append("Name the role that can intervene in or stop the AI.")
    if (
        not str(content.get("fail_safe", "")).strip()
        and not str(content.get("fail_safe_not_applicable_reason", "")).strip()
    ):
        errors.setdefault("fail_safe", []).append(
            "Describe the fail-safe, or give the reason one is not practicable (fail_safe_not_applicable_reason)."
        )
    return errors
