"""Roles and what they may do, per project.

A user's authority comes only from their memberships of a project (``Membership.Role``); superusers and
trusted system actors may do everything. Every service checks ``require`` before it reads or writes,
and every selector scopes its queryset with ``visible_projects``.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import QuerySet

from accountability.actors import is_system
from accountability.exceptions import NotAllowed, NotFound
from accountability.models import Membership, Project

Role = Membership.Role


class Perm(StrEnum):
    """Project-scoped permissions. Values are stable: they appear in audit records."""

    PROJECT_VIEW = "project.view"
    PROJECT_MANAGE = "project.manage"  # edit the project, grant and revoke memberships
    REGISTRY_VIEW = "registry.view"  # use cases, CAIO, plans, stakeholders
    REGISTRY_EDIT = "registry.edit"  # create and change use cases, stakeholders, obligations, plan drafts
    PLAN_APPROVE = "plan.approve"
    CAIO_MANAGE = "caio.manage"  # designate, revoke, delegate, record OMB notification
    HISTORY_VIEW = "history.view"  # simple-history rows and ledger entries of the project
    LEDGER_APPEND = "ledger.append"  # record AI actions, decisions, violations and corrections
    NOTIFY = "notify"  # receive governance notifications of the project


_READ_ALL = {Perm.PROJECT_VIEW, Perm.REGISTRY_VIEW, Perm.NOTIFY}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.GOVERNANCE_STAFF: frozenset(
        _READ_ALL
        | {
            Perm.PROJECT_MANAGE,
            Perm.REGISTRY_EDIT,
            Perm.PLAN_APPROVE,
            Perm.CAIO_MANAGE,
            Perm.HISTORY_VIEW,
            Perm.LEDGER_APPEND,
        }
    ),
    Role.CAIO: frozenset(_READ_ALL | {Perm.REGISTRY_EDIT, Perm.PLAN_APPROVE, Perm.HISTORY_VIEW, Perm.LEDGER_APPEND}),
    Role.REVIEWER: frozenset(_READ_ALL),
    Role.ETHICS_BOARD: frozenset(_READ_ALL),
    # Responders record violations and corrections in the ledger; they do not read its history.
    Role.INCIDENT_RESPONDER: frozenset(_READ_ALL | {Perm.LEDGER_APPEND}),
    # Auditors read everything in the project, history included, and change nothing.
    Role.AUDITOR: frozenset(_READ_ALL | {Perm.HISTORY_VIEW}),
    # Appellants see only their own appeals (granted by the appeal services), nothing of the registry.
    Role.APPELLANT: frozenset({Perm.PROJECT_VIEW}),
}


def is_unrestricted(actor) -> bool:
    """Superusers and trusted system actors bypass project roles."""
    return is_system(actor) or bool(getattr(actor, "is_superuser", False) and actor.is_active)


def roles_in(actor, project: Project) -> frozenset[str]:
    """The actor's roles in the project (cached on the user object for the request)."""
    if actor is None or is_system(actor) or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return frozenset()
    cache = actor.__dict__.setdefault("_icdev_roles", {})
    if project.pk not in cache:
        cache[project.pk] = frozenset(
            Membership.objects.filter(user=actor, project=project).values_list("role", flat=True)
        )
    return cache[project.pk]


def forget_roles(actor) -> None:
    """Drop the per-object role cache (after memberships change)."""
    if actor is not None and not is_system(actor):
        actor.__dict__.pop("_icdev_roles", None)


def permissions_in(actor, project: Project) -> frozenset[Perm]:
    if is_unrestricted(actor):
        return frozenset(Perm)
    perms: set[Perm] = set()
    for role in roles_in(actor, project):
        perms |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(perms)


def has_perm(actor, project: Project, perm: Perm) -> bool:
    return perm in permissions_in(actor, project)


def require(actor, project: Project, perm: Perm, message: str | None = None) -> None:
    """Raise NotFound when the actor has no access to the project at all (so nothing is revealed about
    other projects), NotAllowed when they are a member without the permission."""
    if has_perm(actor, project, perm):
        return
    if not is_unrestricted(actor) and not roles_in(actor, project):
        raise NotFound("No such project.")
    raise NotAllowed(message or f"Your role in {project.key} does not allow this ({perm.value}).")


def visible_projects(actor, perm: Perm = Perm.PROJECT_VIEW) -> QuerySet[Project]:
    """Projects in which the actor holds ``perm``."""
    if is_unrestricted(actor):
        return Project.objects.all()
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return Project.objects.none()
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if perm in perms]
    return Project.objects.filter(memberships__user=actor, memberships__role__in=roles).distinct()


def project_ids_with(actor, perm: Perm) -> QuerySet | None:
    """A subquery of project ids where the actor holds ``perm``; None means unrestricted."""
    if is_unrestricted(actor):
        return None
    return visible_projects(actor, perm).values("pk")
