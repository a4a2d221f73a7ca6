"""Reads of incidents, their timelines, corrective actions and stakeholder notices (project-scoped)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, CharField, Count, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from accountability.config import policy
from accountability.exceptions import NotFound
from accountability.models import (
    CorrectiveAction,
    Incident,
    IncidentEvent,
    IncidentStakeholderNotice,
    Project,
    Stakeholder,
)
from accountability.models.incidents import OPEN_STATUSES
from accountability.permissions import Perm, require
from accountability.rules.incidents import IncidentCompleteness, gv_4_3_002_completeness

from ._scope import get_by_public_id, scoped

SLA_STATES = ["breached", "at_risk", "on_track", "met"]


def with_sla_state(qs: QuerySet[Incident], now: dt.datetime | None = None) -> QuerySet[Incident]:
    """Annotate ``sla_state``: breached, at_risk (deadline within the configured hours), on_track or met."""
    now = now or timezone.now()
    at_risk = now + dt.timedelta(hours=policy()["incidents"]["sla_at_risk_hours"])
    return qs.annotate(
        sla_state=Case(
            When(
                Q(sla_breached_at__isnull=False) | Q(status__in=OPEN_STATUSES, sla_due_at__lte=now),
                then=Value("breached"),
            ),
            When(~Q(status__in=OPEN_STATUSES), then=Value("met")),
            When(sla_due_at__lte=at_risk, then=Value("at_risk")),
            default=Value("on_track"),
            output_field=CharField(),
        )
    )


def incident_list(actor, project: Project | None = None) -> QuerySet[Incident]:
    """Incidents of the projects the actor may read, with ``sla_state`` and open corrective actions."""
    qs = Incident.objects.select_related("project", "assigned_to", "reported_by").annotate(
        open_actions=Count(
            "corrective_actions",
            filter=Q(corrective_actions__status__in=["open", "in_progress"]),
            distinct=True,
        )
    )
    return with_sla_state(scoped(qs, actor, Perm.INCIDENT_VIEW, project))


def incident_get(actor, public_id: str, project: Project | None = None) -> Incident:
    """One incident by its public id (``INC-00001``) with its use cases, timeline, actions and notices."""
    qs = incident_list(actor, project).prefetch_related(
        "use_cases",
        Prefetch("events", queryset=IncidentEvent.objects.select_related("actor").order_by("at", "id")),
        Prefetch("corrective_actions", queryset=CorrectiveAction.objects.select_related("owner")),
        Prefetch("stakeholder_notices", queryset=IncidentStakeholderNotice.objects.select_related("stakeholder")),
    )
    return get_by_public_id(Incident, qs, public_id)


def incident_completeness(actor, incident: Incident) -> IncidentCompleteness:
    """The NIST AI 600-1 GV-4.3-002 completeness of the incident record."""
    require(actor, incident.project, Perm.INCIDENT_VIEW)
    cache = getattr(incident, "_prefetched_objects_cache", {})
    has = bool(cache["use_cases"]) if "use_cases" in cache else None
    return gv_4_3_002_completeness(incident, has_use_cases=has)


def incident_timeline(actor, incident: Incident) -> QuerySet[IncidentEvent]:
    """Everything that happened to the incident, oldest first."""
    require(actor, incident.project, Perm.INCIDENT_VIEW)
    return incident.events.select_related("actor").order_by("at", "id")


def corrective_action_list(actor, project: Project | None = None) -> QuerySet[CorrectiveAction]:
    """Corrective actions of the projects the actor may read."""
    qs = CorrectiveAction.objects.select_related("project", "incident", "owner")
    return scoped(qs, actor, Perm.INCIDENT_VIEW, project)


def corrective_action_get(actor, public_id: str) -> CorrectiveAction:
    """One corrective action by its public id (``CA-00001``)."""
    return get_by_public_id(CorrectiveAction, corrective_action_list(actor), public_id)


def stakeholder_notice_get(actor, incident: Incident, notice_id) -> IncidentStakeholderNotice:
    """One stakeholder notice of an incident (by its number or its party's id, ``SH-00001``)."""
    require(actor, incident.project, Perm.INCIDENT_VIEW)
    qs = incident.stakeholder_notices.select_related("stakeholder", "incident", "project")
    value = str(notice_id).strip()
    notice = (
        qs.filter(pk=int(value)).first()
        if value.isdigit()
        else qs.filter(stakeholder__pk=Stakeholder.pk_from_public_id(value)).first()
    )
    if notice is None:
        raise NotFound(f"No stakeholder notice {value!r} on {incident.public_id}.")
    return notice
