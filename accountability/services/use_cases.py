"""The AI use-case inventory: create, update, determine high impact, change stage."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accountability.actors import history_user
from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import AIUseCase, OversightPlanVersion, Project
from accountability.permissions import Perm, require
from accountability.rules.use_cases import STAGE_TRANSITIONS, determination_errors, minimum_practices_errors
from accountability.selectors.ethics import approved_review_exists

from ._common import apply_changes, full_clean, jsonable, raise_if, tracked_save
from .reassessments import deactivate_for_retired_use_case, mark_due_for_modification

DESCRIPTIVE_FIELDS = {
    "name",
    "bureau",
    "purpose",
    "benefits",
    "outputs",
    "topic_area",
    "is_generative",
    "is_agentic",
    "is_llm_procured",
    "development_method",
    "vendor_name",
    "responsible_official",
    "responsible_official_name",
    "contact_name",
    "contact_email",
    "withheld",
    "withheld_reason",
    "operational_date",
    "ato_system_name",
    "data_description",
    "involves_pii",
    "pia_url",
    "demographic_features",
    "has_custom_code",
    "code_url",
    "minimum_practices",
}
DETERMINATION_FIELDS = {
    "high_impact_determination",
    "high_impact_bases",
    "presumed_categories",
    "high_impact_justification",
}


def _check_fields(use_case: AIUseCase) -> None:
    errors = determination_errors(
        use_case.high_impact_determination,
        use_case.high_impact_bases,
        use_case.presumed_categories,
        use_case.high_impact_justification,
    )
    errors.update(minimum_practices_errors(use_case.minimum_practices))
    if use_case.withheld and not use_case.withheld_reason.strip():
        errors["withheld_reason"] = ["Give the reason the entry is withheld from the public inventory."]
    if use_case.development_method in ("vendor", "both") and not use_case.vendor_name.strip():
        errors["vendor_name"] = ["Name the vendor of a vendor-developed use case."]
    raise_if(errors)
    full_clean(use_case)


@transaction.atomic
def use_case_create(
    *, actor, project: Project, name: str, stage: str = AIUseCase.Stage.PRE_DEPLOYMENT, **fields
) -> AIUseCase:
    """Add a use case to the project's inventory."""
    require(actor, project, Perm.REGISTRY_EDIT)
    unknown = sorted(set(fields) - DESCRIPTIVE_FIELDS - DETERMINATION_FIELDS)
    if unknown:
        raise ValidationFailed({f: ["Unknown field."] for f in unknown})
    if stage not in AIUseCase.Stage.values:
        raise ValidationFailed({"stage": [f"Must be one of: {', '.join(AIUseCase.Stage.values)}."]})
    if stage == AIUseCase.Stage.RETIRED:
        raise ValidationFailed({"stage": ["A new use case cannot start retired."]})
    use_case = AIUseCase(project=project, name=name, stage=stage, created_by=history_user(actor), **fields)
    if use_case.high_impact_determination != AIUseCase.HighImpact.NOT_ASSESSED:
        use_case.determination_by, use_case.determination_at = history_user(actor), timezone.now()
    _check_fields(use_case)
    _run_stage_guards(actor, use_case, stage)
    tracked_save(use_case, actor=actor, reason="use case created")
    record_governance(
        actor=actor,
        project=project,
        action_type="use_case.create",
        description=f"{use_case.public_id} '{use_case.name}' added to the inventory",
        subject=use_case,
        changes=jsonable({"stage": stage, "high_impact_determination": use_case.high_impact_determination, **fields}),
    )
    return use_case


@transaction.atomic
def use_case_update(*, actor, use_case: AIUseCase, **changes) -> AIUseCase:
    """Change descriptive inventory fields (stage and determination have their own services)."""
    require(actor, use_case.project, Perm.REGISTRY_EDIT)
    use_case = AIUseCase.objects.select_for_update().get(pk=use_case.pk)
    if use_case.stage == AIUseCase.Stage.RETIRED:
        raise InvalidTransition(f"{use_case.public_id} is retired; its entry is frozen.")
    misplaced = sorted(set(changes) & (DETERMINATION_FIELDS | {"stage"}))
    if misplaced:
        raise ValidationFailed({f: ["Use the determination or stage action to change this."] for f in misplaced})
    diff = apply_changes(use_case, changes, DESCRIPTIVE_FIELDS)
    if not diff:
        return use_case
    _check_fields(use_case)
    tracked_save(use_case, actor=actor, reason="use case updated")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="use_case.update",
        description=f"{use_case.public_id} updated",
        subject=use_case,
        changes=diff,
    )
    return use_case


@transaction.atomic
def use_case_record_determination(
    *,
    actor,
    use_case: AIUseCase,
    determination: str,
    bases: list | None = None,
    presumed_categories: list | None = None,
    justification: str = "",
) -> AIUseCase:
    """Record the high-impact determination (M-25-21 §4(a)) with its bases and presumed categories."""
    require(actor, use_case.project, Perm.REGISTRY_EDIT)
    use_case = AIUseCase.objects.select_for_update().get(pk=use_case.pk)
    if use_case.stage == AIUseCase.Stage.RETIRED:
        raise InvalidTransition(f"{use_case.public_id} is retired; its entry is frozen.")
    bases = list(bases or [])
    presumed_categories = list(presumed_categories or [])
    raise_if(determination_errors(determination, bases, presumed_categories, justification))
    before = {
        "determination": use_case.high_impact_determination,
        "bases": use_case.high_impact_bases,
        "presumed_categories": use_case.presumed_categories,
    }
    use_case.high_impact_determination = determination
    use_case.high_impact_bases = bases
    use_case.presumed_categories = presumed_categories
    use_case.high_impact_justification = justification.strip()
    use_case.determination_by, use_case.determination_at = history_user(actor), timezone.now()
    _check_fields(use_case)
    tracked_save(use_case, actor=actor, reason=f"determination: {determination}")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="use_case.determine_high_impact",
        description=f"{use_case.public_id} determined {use_case.get_high_impact_determination_display()}",
        subject=use_case,
        rationale=justification,
        changes={
            "before": before,
            "after": {"determination": determination, "bases": bases, "presumed_categories": presumed_categories},
        },
    )
    return use_case


def _run_stage_guards(actor, use_case: AIUseCase, stage: str) -> None:
    """Rules a use case must meet to enter ``stage``; each raises a domain error to refuse."""
    if stage == AIUseCase.Stage.DEPLOYED and use_case.is_high_impact:
        has_plan = (
            OversightPlanVersion.objects.filter(
                status=OversightPlanVersion.Status.ACTIVE, plan__use_case=use_case
            ).exists()
            if use_case.pk
            else False
        )
        if not has_plan:
            raise InvalidTransition(
                f"{use_case.public_id or 'This use case'} is high-impact: it needs an active oversight plan "
                "before it is deployed (M-25-21 §4(b)(v))."
            )
        # Portal rule (seed 003 gate, seed 000 boards): an ethics review that approved the use case, with
        # or without conditions, must be completed before a high-impact deployment.
        if not (use_case.pk and approved_review_exists(use_case)):
            raise InvalidTransition(
                f"{use_case.public_id or 'This use case'} is high-impact: it needs a completed ethics review "
                "that approved it before it is deployed."
            )


@transaction.atomic
def use_case_change_stage(*, actor, use_case: AIUseCase, stage: str, reason: str = "") -> AIUseCase:
    """Move a use case through its lifecycle along the allowed transitions."""
    require(actor, use_case.project, Perm.REGISTRY_EDIT)
    use_case = AIUseCase.objects.select_for_update().get(pk=use_case.pk)
    if stage not in AIUseCase.Stage.values:
        raise ValidationFailed({"stage": [f"Must be one of: {', '.join(AIUseCase.Stage.values)}."]})
    old = use_case.stage
    if stage == old:
        raise InvalidTransition(f"{use_case.public_id} is already {stage}.")
    if stage not in STAGE_TRANSITIONS[old]:
        allowed = ", ".join(sorted(STAGE_TRANSITIONS[old])) or "none (retired is final)"
        raise InvalidTransition(f"{use_case.public_id} cannot move from {old} to {stage}; allowed: {allowed}.")
    _run_stage_guards(actor, use_case, stage)
    use_case.stage = stage
    tracked_save(use_case, actor=actor, reason=f"stage {old} -> {stage}")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="use_case.change_stage",
        description=f"{use_case.public_id} moved from {old} to {stage}",
        subject=use_case,
        changes={"stage": [old, stage]},
        rationale=reason,
    )
    # A stage change is a significant modification: the use case's reassessments are due at once
    # (a retired use case needs none, so its schedules stop).
    if stage == AIUseCase.Stage.RETIRED:
        deactivate_for_retired_use_case(actor=actor, use_case=use_case)
    else:
        mark_due_for_modification(
            actor=actor, use_case=use_case, description=f"stage {old} -> {stage}", source="stage change"
        )
    return use_case
