"""Human-oversight plans (seed 003 §3, D316): versions are inserted, never edited.

draft --approve--> active --(a newer version is approved)--> archived
draft --discard--> archived (never active); active --retire--> archived (no successor)
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accountability.actors import history_user, is_system
from accountability.config import policy
from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import AIUseCase, OversightPlan, OversightPlanVersion, Project
from accountability.permissions import Perm, require
from accountability.rules.plans import CONTENT_FIELDS, approval_errors, structure_errors

from ._common import jsonable, raise_if, tracked_save
from .notifications import notification_send

Status = OversightPlanVersion.Status


def _content_of(version: OversightPlanVersion) -> dict:
    return {f: getattr(version, f) for f in CONTENT_FIELDS}


def _template_content(name: str) -> dict:
    templates = policy()["oversight_plan_templates"]
    if name not in templates:
        raise ValidationFailed({"template": [f"Unknown template; choose one of: {', '.join(sorted(templates))}."]})
    tpl = templates[name]
    return {
        "name": tpl["title"],
        "roles": tpl["roles"],
        "escalation_path": tpl["escalation_path"],
        "hitl_checkpoints": tpl["hitl_checkpoints"],
        "approval_required": tpl["approval_required"],
        "intervention_role": tpl.get("intervention_role", ""),
        "fail_safe": tpl.get("fail_safe", ""),
    }


def _check_content(content: dict) -> None:
    unknown = sorted(set(content) - set(CONTENT_FIELDS))
    if unknown:
        raise ValidationFailed({f: ["Unknown plan field."] for f in unknown})
    raise_if(structure_errors(content))


@transaction.atomic
def oversight_plan_create(
    *,
    actor,
    project: Project,
    use_case: AIUseCase | None = None,
    template: str = "",
    change_summary: str = "",
    **content,
) -> OversightPlanVersion:
    """Create a plan and its version 1 as a draft, optionally from a configured template."""
    require(actor, project, Perm.REGISTRY_EDIT)
    if use_case is not None and use_case.project_id != project.pk:
        raise ValidationFailed({"use_case": ["The use case belongs to another project."]})
    if use_case is not None and use_case.stage == AIUseCase.Stage.RETIRED:
        raise ValidationFailed({"use_case": [f"{use_case.public_id} is retired."]})
    merged = {**(_template_content(template) if template else {}), **content}
    if not str(merged.get("name", "")).strip():
        raise ValidationFailed({"name": ["A plan needs a name (or a template that provides one)."]})
    _check_content(merged)
    plan = OversightPlan(project=project, use_case=use_case, created_by=history_user(actor))
    tracked_save(plan, actor=actor, reason="plan created")
    version = OversightPlanVersion(
        plan=plan,
        version=1,
        status=Status.DRAFT,
        template=template,
        change_summary=change_summary or "Initial version",
        created_by=history_user(actor),
        **merged,
    )
    tracked_save(version, actor=actor, reason="version 1 drafted")
    record_governance(
        actor=actor,
        project=project,
        action_type="oversight_plan.create",
        description=f"{plan.public_id} v1 drafted: {version.name}",
        subject=version,
        changes=jsonable({"use_case": use_case, "template": template, **merged}),
    )
    return version


@transaction.atomic
def oversight_plan_new_version(*, actor, plan: OversightPlan, change_summary: str, **changes) -> OversightPlanVersion:
    """Insert version n+1 as a draft: the latest version's content with ``changes`` applied."""
    require(actor, plan.project, Perm.REGISTRY_EDIT)
    plan = OversightPlan.objects.select_for_update().get(pk=plan.pk)
    if not (change_summary or "").strip():
        raise ValidationFailed({"change_summary": ["Say what this version changes."]})
    versions = plan.versions.order_by("-version")
    latest = versions.first()
    if versions.filter(status=Status.DRAFT).exists():
        draft = versions.filter(status=Status.DRAFT).first()
        raise Conflict(f"{plan.public_id} v{draft.version} is a draft awaiting approval; approve or discard it first.")
    # A new version starts from the active content (or the latest, when none was ever approved).
    base = versions.filter(status=Status.ACTIVE).first() or latest
    content = {**_content_of(base), **changes}
    _check_content(content)
    if content == _content_of(base):
        raise ValidationFailed({"non_field_errors": ["The new version changes nothing."]})
    version = OversightPlanVersion(
        plan=plan,
        version=latest.version + 1,
        status=Status.DRAFT,
        change_summary=change_summary.strip(),
        created_by=history_user(actor),
        **content,
    )
    tracked_save(version, actor=actor, reason=f"version {version.version} drafted")
    diff = {k: [jsonable(getattr(base, k)), jsonable(v)] for k, v in content.items() if getattr(base, k) != v}
    record_governance(
        actor=actor,
        project=plan.project,
        action_type="oversight_plan.new_version",
        description=f"{plan.public_id} v{version.version} drafted",
        subject=version,
        changes=diff,
        rationale=change_summary,
    )
    return version


@transaction.atomic
def oversight_plan_approve(*, actor, plan: OversightPlan, version: int | None = None) -> OversightPlanVersion:
    """Approve the draft: it becomes active and the previously active version is archived. Needs the
    CAIO or governance-staff role, and the author of a version never approves it."""
    require(actor, plan.project, Perm.PLAN_APPROVE, "Only the CAIO or governance staff approve oversight plans.")
    plan = OversightPlan.objects.select_for_update().get(pk=plan.pk)
    draft = plan.versions.filter(status=Status.DRAFT).first()
    if draft is None:
        raise InvalidTransition(f"{plan.public_id} has no draft to approve.")
    if version is not None and version != draft.version:
        target = plan.versions.filter(version=version).first()
        if target is None:
            raise ValidationFailed({"version": [f"{plan.public_id} has no version {version}."]})
        raise InvalidTransition(f"{plan.public_id} v{version} is {target.status}; only a draft can be approved.")
    if not is_system(actor) and draft.created_by_id == actor.pk:
        raise NotAllowed("Separation of duties: the author of a plan version cannot approve it.")
    raise_if(approval_errors(_content_of(draft)))
    now = timezone.now()
    previous = plan.versions.filter(status=Status.ACTIVE).first()
    if previous is not None:
        previous.status, previous.archived_at = Status.ARCHIVED, now
        tracked_save(previous, actor=actor, reason=f"archived by v{draft.version}")
    draft.status, draft.approved_by, draft.approved_at = Status.ACTIVE, history_user(actor), now
    tracked_save(draft, actor=actor, reason="approved")
    record_governance(
        actor=actor,
        project=plan.project,
        action_type="oversight_plan.approve",
        description=f"{plan.public_id} v{draft.version} approved"
        + (f"; v{previous.version} archived" if previous else ""),
        subject=draft,
        changes={"approved_version": draft.version, "archived_version": previous.version if previous else None},
    )
    if draft.created_by is not None:
        notification_send(
            recipients=[draft.created_by],
            kind="oversight_plan.approved",
            project=plan.project,
            subject=f"{plan.public_id} v{draft.version} approved",
            body=f"Your oversight plan version '{draft.name}' is now active.",
            dedupe_key=f"oversight_plan.approved:{draft.pk}",
        )
    return draft


@transaction.atomic
def oversight_plan_discard_draft(*, actor, plan: OversightPlan, reason: str) -> OversightPlanVersion:
    """Archive a draft that will never be approved (it stays readable)."""
    require(actor, plan.project, Perm.REGISTRY_EDIT)
    plan = OversightPlan.objects.select_for_update().get(pk=plan.pk)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the draft is discarded."]})
    draft = plan.versions.filter(status=Status.DRAFT).first()
    if draft is None:
        raise InvalidTransition(f"{plan.public_id} has no draft to discard.")
    draft.status, draft.archived_at = Status.ARCHIVED, timezone.now()
    tracked_save(draft, actor=actor, reason="draft discarded")
    record_governance(
        actor=actor,
        project=plan.project,
        action_type="oversight_plan.discard",
        description=f"{plan.public_id} v{draft.version} discarded",
        subject=draft,
        rationale=reason,
    )
    return draft


@transaction.atomic
def oversight_plan_retire(*, actor, plan: OversightPlan, reason: str) -> OversightPlanVersion:
    """Archive the active version without a successor (e.g. the use case was retired)."""
    require(actor, plan.project, Perm.PLAN_APPROVE)
    plan = OversightPlan.objects.select_for_update().get(pk=plan.pk)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the plan is retired."]})
    active = plan.versions.filter(status=Status.ACTIVE).first()
    if active is None:
        raise InvalidTransition(f"{plan.public_id} has no active version.")
    active.status, active.archived_at = Status.ARCHIVED, timezone.now()
    tracked_save(active, actor=actor, reason="plan retired")
    record_governance(
        actor=actor,
        project=plan.project,
        action_type="oversight_plan.retire",
        description=f"{plan.public_id} v{active.version} retired",
        subject=active,
        rationale=reason,
    )
    return active
