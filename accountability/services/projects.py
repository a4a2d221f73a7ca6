"""Projects and memberships."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import transaction

from accountability.actors import is_system
from accountability.exceptions import Conflict, NotAllowed, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import Membership, Project
from accountability.permissions import Perm, forget_roles, is_unrestricted, require

from ._common import apply_changes, full_clean, jsonable, tracked_save

PROJECT_EDITABLE = {"name", "organization", "program", "is_federal_agency", "is_cfo_act_agency", "description"}


def can_create_projects(actor) -> bool:
    return is_unrestricted(actor) or bool(
        getattr(actor, "is_active", False) and actor.has_perm("accountability.add_project")
    )


def _next_project_key() -> str:
    numbers = [
        int(m.group(1))
        for k in Project.objects.filter(key__startswith="proj-").values_list("key", flat=True)
        if (m := re.fullmatch(r"proj-(\d+)", k))
    ]
    return f"proj-{max(numbers, default=100) + 1}"


@transaction.atomic
def project_create(
    *,
    actor,
    name: str,
    organization: str,
    key: str = "",
    program: str = "",
    is_federal_agency: bool = False,
    is_cfo_act_agency: bool = False,
    description: str = "",
) -> Project:
    """Create a project; its creator becomes governance staff of it."""
    if not can_create_projects(actor):
        raise NotAllowed("Only superusers or holders of the 'add project' permission create projects.")
    project = Project(
        key=(key or _next_project_key()).strip(),
        name=name,
        organization=organization,
        program=program,
        is_federal_agency=is_federal_agency,
        is_cfo_act_agency=is_cfo_act_agency,
        description=description,
        created_by=None if is_system(actor) else actor,
    )
    if is_cfo_act_agency and not is_federal_agency:
        raise ValidationFailed({"is_cfo_act_agency": ["A CFO Act agency is a federal agency: set is_federal_agency."]})
    full_clean(project)
    tracked_save(project, actor=actor, reason="project created")
    if not is_system(actor):
        membership = Membership(project=project, user=actor, role=Membership.Role.GOVERNANCE_STAFF, granted_by=actor)
        tracked_save(membership, actor=actor, reason="creator granted governance staff")
        forget_roles(actor)
    record_governance(
        actor=actor,
        project=project,
        action_type="project.create",
        description=f"Project {project.key} created",
        subject=project,
        changes=jsonable({f: getattr(project, f) for f in sorted(PROJECT_EDITABLE)}),
    )
    return project


@transaction.atomic
def project_update(*, actor, project: Project, **changes) -> Project:
    """Change a project's descriptive fields (the key never changes)."""
    require(actor, project, Perm.PROJECT_MANAGE)
    project = Project.objects.select_for_update().get(pk=project.pk)
    diff = apply_changes(project, changes, PROJECT_EDITABLE)
    if not diff:
        return project
    if project.is_cfo_act_agency and not project.is_federal_agency:
        raise ValidationFailed({"is_cfo_act_agency": ["A CFO Act agency is a federal agency: set is_federal_agency."]})
    full_clean(project)
    tracked_save(project, actor=actor, reason="project updated")
    record_governance(
        actor=actor,
        project=project,
        action_type="project.update",
        description=f"Project {project.key} updated",
        subject=project,
        changes=diff,
    )
    return project


@transaction.atomic
def membership_grant(*, actor, project: Project, user, role: str) -> Membership:
    """Give a user a role in the project."""
    require(actor, project, Perm.PROJECT_MANAGE)
    if role not in Membership.Role.values:
        raise ValidationFailed({"role": [f"Must be one of: {', '.join(Membership.Role.values)}."]})
    if user is None or not isinstance(user, get_user_model()) or not user.is_active:
        raise ValidationFailed({"user": ["Name an active user."]})
    if Membership.objects.filter(project=project, user=user, role=role).exists():
        raise Conflict(f"{user.get_username()} already holds the role {role} in {project.key}.")
    membership = Membership(project=project, user=user, role=role, granted_by=None if is_system(actor) else actor)
    tracked_save(membership, actor=actor, reason=f"granted {role}")
    forget_roles(user)
    record_governance(
        actor=actor,
        project=project,
        action_type="membership.grant",
        description=f"{user.get_username()} granted {role} in {project.key}",
        subject=membership,
        changes={"user": user.get_username(), "role": role},
    )
    return membership


@transaction.atomic
def membership_revoke(*, actor, project: Project, user, role: str, reason: str = "") -> None:
    """Take a role away; the last governance-staff member of a project cannot be removed."""
    require(actor, project, Perm.PROJECT_MANAGE)
    membership = Membership.objects.select_for_update().filter(project=project, user=user, role=role).first()
    if membership is None:
        raise ValidationFailed({"role": [f"{user.get_username()} does not hold the role {role} in {project.key}."]})
    if role == Membership.Role.GOVERNANCE_STAFF and (
        Membership.objects.filter(project=project, role=role).count() == 1
    ):
        raise Conflict("A project keeps at least one governance-staff member.")
    membership._history_user = None if is_system(actor) else actor
    membership._change_reason = (reason or f"revoked {role}")[:100]
    membership.delete()
    forget_roles(user)
    record_governance(
        actor=actor,
        project=project,
        action_type="membership.revoke",
        description=f"{user.get_username()} lost {role} in {project.key}",
        changes={"user": user.get_username(), "role": role},
        rationale=reason,
    )
