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
    # Appeals (M-25-21 §4(b)(vi)). Appellants hold only APPEAL_SUBMIT: they see their own appeals, a
    # reviewer sees the appeals assigned to them, an escalation official those escalated to them.
    APPEAL_SUBMIT = "appeal.submit"
    APPEAL_VIEW = "appeal.view"  # every appeal of the project
    APPEAL_COORDINATE = "appeal.coordinate"  # assign reviewers, submit or withdraw for outside appellants
    APPEAL_REVIEW = "appeal.review"  # may be assigned as an appeal's reviewer
    APPEAL_ESCALATION = "appeal.escalation"  # decide escalated appeals not routed to a delegated official
    # Ethics reviews (seed 000 boards, D319 rubrics).
    ETHICS_VIEW = "ethics.view"
    ETHICS_MANAGE = "ethics.manage"  # create a review, set its board, start it, revise it as submitter
    ETHICS_SCORE = "ethics.score"  # may sit on a board and score
    ETHICS_DECIDE = "ethics.decide"  # take the decision after a scoring round
    # Transparency evidence (issue 6). Reading it needs REGISTRY_VIEW, like the rest of the registry.
    EVIDENCE_EDIT = "evidence.edit"  # record evidence, draft cards, policies and impact assessments
    EVIDENCE_APPROVE = "evidence.approve"  # publish model cards, approve the content-tracing policy
    IMPACT_REVIEW = "impact.review"  # may be the independent reviewer of an impact assessment (§4(b)(ii)(F))
    RISK_ACCEPT = "risk.accept"  # sign an impact assessment's risk acceptance (§4(b)(ii)(G))
    WAIVER_ISSUE = "waiver.issue"  # issue, recertify, revoke waivers: also needs the active CAIO designation
    WAIVER_REPORT = "waiver.report"  # record the dates waivers were reported to OMB
    # Incidents and reassessments (issue 4).
    INCIDENT_VIEW = "incident.view"  # incidents, their timelines, corrective actions and stakeholder notices
    INCIDENT_REPORT = "incident.report"  # log a new incident
    INCIDENT_MANAGE = "incident.manage"  # triage, transitions, corrective actions, EU reporting, coordination
    REASSESSMENT_MANAGE = "reassessment.manage"  # create, assign and complete schedules; significant modifications
    WEBHOOK_MANAGE = "webhook.manage"  # the project's outgoing webhooks and their delivery log
    # Cross-framework audits and the security gate (issue 6, the assessors app).
    AUDIT_VIEW = "audit.view"  # stored audit runs, check results, a live (unstored) evaluation and the gate
    AUDIT_RUN = "audit.run"  # run and store an audit (each run writes a ledger entry)


_READ_ALL = {Perm.PROJECT_VIEW, Perm.REGISTRY_VIEW, Perm.NOTIFY, Perm.INCIDENT_VIEW}
_EVIDENCE = {Perm.EVIDENCE_EDIT, Perm.EVIDENCE_APPROVE, Perm.IMPACT_REVIEW, Perm.WAIVER_REPORT}
_INCIDENTS = {Perm.INCIDENT_REPORT, Perm.INCIDENT_MANAGE}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    # Governance staff coordinate appeals (the coordinator role), run ethics reviews and record evidence.
    Role.GOVERNANCE_STAFF: frozenset(
        _READ_ALL
        | {Perm.PROJECT_MANAGE, Perm.REGISTRY_EDIT, Perm.PLAN_APPROVE, Perm.CAIO_MANAGE, Perm.HISTORY_VIEW}
        | {Perm.APPEAL_SUBMIT, Perm.APPEAL_VIEW, Perm.APPEAL_COORDINATE}
        | {Perm.ETHICS_VIEW, Perm.ETHICS_MANAGE, Perm.ETHICS_DECIDE}
        | _EVIDENCE
        | _INCIDENTS
        | {Perm.REASSESSMENT_MANAGE, Perm.WEBHOOK_MANAGE}
        | {Perm.LEDGER_APPEND, Perm.AUDIT_VIEW, Perm.AUDIT_RUN}
    ),
    # The CAIO accepts risk and alone holds waiver authority (M-25-21 §4(a)(ii): not delegable).
    Role.CAIO: frozenset(
        _READ_ALL
        | {Perm.REGISTRY_EDIT, Perm.PLAN_APPROVE, Perm.HISTORY_VIEW}
        | {Perm.APPEAL_VIEW, Perm.APPEAL_ESCALATION}
        | {Perm.ETHICS_VIEW, Perm.ETHICS_MANAGE, Perm.ETHICS_DECIDE}
        | _EVIDENCE
        | {Perm.RISK_ACCEPT, Perm.WAIVER_ISSUE}
        | _INCIDENTS
        | {Perm.REASSESSMENT_MANAGE}
        | {Perm.LEDGER_APPEND, Perm.AUDIT_VIEW, Perm.AUDIT_RUN}
    ),
    # Reviewers and board members can be independent reviewers of impact assessments, and may report
    # the incidents they see; responders run the incident response.
    Role.REVIEWER: frozenset(_READ_ALL | {Perm.APPEAL_REVIEW, Perm.IMPACT_REVIEW, Perm.INCIDENT_REPORT}),
    Role.ETHICS_BOARD: frozenset(
        _READ_ALL | {Perm.ETHICS_VIEW, Perm.ETHICS_SCORE, Perm.IMPACT_REVIEW, Perm.INCIDENT_REPORT}
    ),
    # Responders record violations and corrections in the ledger; they do not read its history.
    Role.INCIDENT_RESPONDER: frozenset(_READ_ALL | _INCIDENTS | {Perm.LEDGER_APPEND}),
    # Auditors read everything in the project, history included, and change nothing.
    Role.AUDITOR: frozenset(_READ_ALL | {Perm.HISTORY_VIEW, Perm.APPEAL_VIEW, Perm.ETHICS_VIEW, Perm.AUDIT_VIEW}),
    # Appellants submit appeals and see only their own (the appeal selectors), nothing of the registry.
    Role.APPELLANT: frozenset({Perm.PROJECT_VIEW, Perm.APPEAL_SUBMIT}),
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
