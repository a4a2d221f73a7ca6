"""Reads of the governance registry."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum

from accountability.exceptions import NotFound
from accountability.models import (
    AIUseCase,
    CAIODesignation,
    ContractualObligation,
    Membership,
    Notification,
    OversightPlan,
    OversightPlanVersion,
    Project,
    Stakeholder,
)
from accountability.permissions import Perm, require, visible_projects
from accountability.rules.completeness import CompletenessReport, completeness_report

from ._scope import get_by_public_id, scoped


def project_list(actor) -> QuerySet[Project]:
    """Projects the actor belongs to (all of them for superusers)."""
    return visible_projects(actor).annotate(use_case_count=Count("use_cases", distinct=True)).order_by("key")


def project_get(actor, key: str) -> Project:
    """One visible project by key; NotFound for unknown and invisible keys alike."""
    project = visible_projects(actor).filter(key=str(key).strip()).first()
    if project is None:
        raise NotFound(f"No project {key!r}.")
    return project


def membership_list(actor, project: Project) -> QuerySet[Membership]:
    """Members of a project with their roles."""
    require(actor, project, Perm.REGISTRY_VIEW)
    return Membership.objects.filter(project=project).select_related("user", "granted_by")


def use_case_list(actor, project: Project | None = None) -> QuerySet[AIUseCase]:
    """Use cases of the projects the actor may read."""
    qs = AIUseCase.objects.select_related("project", "responsible_official")
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def use_case_get(actor, public_id: str, project: Project | None = None) -> AIUseCase:
    """One use case by its public id (``UC-00001``)."""
    return get_by_public_id(AIUseCase, use_case_list(actor, project), public_id)


def use_case_completeness(actor, use_case: AIUseCase) -> CompletenessReport:
    """Which fields the use case's stage requires are missing."""
    require(actor, use_case.project, Perm.REGISTRY_VIEW)
    return completeness_report(use_case)


def caio_list(actor, project: Project | None = None) -> QuerySet[CAIODesignation]:
    """CAIO designations with their derived ``current_status``."""
    qs = CAIODesignation.objects.select_related("project", "official").with_status()
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def caio_get(actor, public_id: str) -> CAIODesignation:
    """One CAIO designation by its public id (``CAIO-00001``)."""
    return get_by_public_id(CAIODesignation, caio_list(actor), public_id)


def caio_current(actor, project: Project) -> CAIODesignation | None:
    """The project's active designation today, if any."""
    return caio_list(actor, project).active().order_by("-effective_date", "-id").first()


def caio_status(actor, project: Project) -> dict:
    """The CAIO picture of a project: the active designation, OMB notification and the history."""
    current = caio_current(actor, project)
    designations = list(caio_list(actor, project))
    return {
        "project": project.key,
        "is_federal_agency": project.is_federal_agency,
        "caio_required": project.is_federal_agency,
        "has_active_caio": current is not None,
        "active": current,
        "omb_notified": bool(current and current.omb_notified_at),
        "designations": designations,
    }


def oversight_plan_list(actor, project: Project | None = None) -> QuerySet[OversightPlan]:
    """Plans with their latest and active version numbers."""
    active = OversightPlanVersion.objects.filter(plan=OuterRef("pk"), status=OversightPlanVersion.Status.ACTIVE)
    qs = OversightPlan.objects.select_related("project", "use_case").annotate(
        latest_version=Max("versions__version"),
        active_version=Subquery(active.values("version")[:1]),
        active_name=Subquery(active.values("name")[:1]),
        has_draft=Count("versions", filter=Q(versions__status=OversightPlanVersion.Status.DRAFT)),
    )
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def oversight_plan_get(actor, public_id: str) -> OversightPlan:
    """One plan by its public id (``OSP-00001``)."""
    return get_by_public_id(OversightPlan, oversight_plan_list(actor), public_id)


def oversight_version_list(actor, plan: OversightPlan) -> QuerySet[OversightPlanVersion]:
    """Every version of a plan, oldest first."""
    require(actor, plan.project, Perm.REGISTRY_VIEW)
    return plan.versions.select_related("created_by", "approved_by").order_by("version")


def oversight_version_list_all(actor, project: Project | None = None) -> QuerySet[OversightPlanVersion]:
    """Plan versions across the projects the actor may read."""
    qs = OversightPlanVersion.objects.select_related("plan__project", "plan__use_case", "created_by", "approved_by")
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project, field="plan__project")


def stakeholder_list(actor, project: Project | None = None) -> QuerySet[Stakeholder]:
    """Stakeholder parties with their obligation counts."""
    qs = Stakeholder.objects.select_related("project", "use_case").annotate(obligation_count=Count("obligations"))
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def stakeholder_get(actor, public_id: str) -> Stakeholder:
    """One stakeholder by its public id (``SH-00001``)."""
    return get_by_public_id(Stakeholder, stakeholder_list(actor), public_id)


def stakeholder_allocated_share(use_case: AIUseCase, exclude_pk=None) -> Decimal:
    """The sum of the active parties' shares of a use case (callers have checked access)."""
    qs = Stakeholder.objects.filter(use_case=use_case, is_active=True)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    total = qs.aggregate(total=Sum("responsibility_share"))["total"] or 0
    return Decimal(str(total)).quantize(Decimal("0.01"))  # SQLite sums decimals as floats


def responsibility_allocation(actor, use_case: AIUseCase) -> dict:
    """How a use case's responsibility is shared, and whether it is fully allocated."""
    require(actor, use_case.project, Perm.REGISTRY_VIEW)
    parties = Stakeholder.objects.filter(use_case=use_case, is_active=True)
    total = stakeholder_allocated_share(use_case)
    return {
        "use_case_id": use_case.public_id,
        "allocated": str(total),
        "complete": total == 100,
        "parties": [
            {"stakeholder_id": s.public_id, "name": s.name, "role": s.role, "share": str(s.responsibility_share)}
            for s in parties
        ],
    }


def obligation_list(actor, project: Project | None = None) -> QuerySet[ContractualObligation]:
    """Contractual obligations of the projects the actor may read."""
    qs = ContractualObligation.objects.select_related("project", "stakeholder", "stakeholder__use_case")
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def obligation_get(actor, public_id: str) -> ContractualObligation:
    """One obligation by its public id (``OBL-00001``)."""
    return get_by_public_id(ContractualObligation, obligation_list(actor), public_id)


def history_list(actor, obj) -> QuerySet:
    """simple-history rows of a governance object (auditors, governance staff and the CAIO)."""
    project = obj if isinstance(obj, Project) else getattr(obj, "project", None) or obj.plan.project
    require(actor, project, Perm.HISTORY_VIEW, "Your role does not include reading history.")
    return obj.history.select_related("history_user").order_by("-history_date", "-history_id")


def notification_list(actor, unread_only: bool = False) -> QuerySet[Notification]:
    """The actor's own inbox."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.pk is None:
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient=actor).select_related("project")
    return qs.filter(read_at__isnull=True) if unread_only else qs
