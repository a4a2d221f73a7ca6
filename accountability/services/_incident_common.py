"""Pieces every incident service shares: locking, the timeline, payloads, links and who to tell."""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accountability.actors import actor_label, history_user
from accountability.models import Incident, IncidentEvent, Membership

from ._recipients import role_user_ids
from .webhooks import Event, webhook_emit

Kind = IncidentEvent.Kind


def locked(incident: Incident) -> Incident:
    """Re-read the incident under a row lock (check-then-act without races)."""
    return Incident.objects.select_for_update(of=("self",)).select_related("project").get(pk=incident.pk)


def add_event(
    incident: Incident,
    kind: str,
    *,
    actor,
    message: str = "",
    ledger=None,
    from_status: str = "",
    to_status: str = "",
    related: dict | None = None,
) -> IncidentEvent:
    """Append a timeline line; ``ledger`` is the entry of the governance act (its id is copied)."""
    return IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        actor=history_user(actor),
        actor_label=actor_label(actor),
        message=message,
        ledger_entry_id=getattr(ledger, "entry_id", "") or "",
        from_status=from_status,
        to_status=to_status,
        related=related or {},
    )


def admin_url(name: str, pk: int) -> str:
    """The admin page of object ``pk`` ("" when the admin is not mounted)."""
    template = _url_template(name)
    return template.replace("/0/", f"/{pk}/", 1) if template else ""


def incident_url(pk: int) -> str:
    """Where staff open the incident (the admin change page)."""
    return admin_url("admin:accountability_incident_change", pk)


@functools.cache
def _url_template(name: str) -> str:
    """The URL of object 0 (reversed once: sweeps build thousands of links)."""
    try:
        return reverse(name, args=[0])
    except NoReverseMatch:  # admin not mounted (e.g. an API-only deployment)
        return ""


def when(value) -> str:
    """A deadline as people read it: local time with its zone."""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M %Z}" if value else "—"


def incident_payload(incident: Incident) -> dict:
    """What webhooks receive about an incident."""
    return {
        "id": incident.public_id,
        "title": incident.title,
        "type": incident.incident_type,
        "severity": incident.severity,
        "status": incident.status,
        "reported_at": incident.reported_at,
        "sla_due_at": incident.sla_due_at,
        "sla_breached": incident.sla_breached,
        "eu_serious": incident.eu_serious,
        "eu_report_due_at": incident.eu_report_due_at,
    }


def emit(incident: Incident, kind: str, dedupe_key: str, **extra) -> None:
    """Queue the event for the project's webhooks."""
    webhook_emit(
        [
            Event(
                project_id=incident.project_id,
                project_key=incident.project.key,
                kind=kind,
                data={**incident_payload(incident), **extra},
                dedupe_key=dedupe_key,
            )
        ]
    )


def owners_of(incident: Incident) -> list:
    """Who answers for the incident now: its assignee, else the project's incident responders."""
    if incident.assigned_to_id and incident.assigned_to.is_active:
        return [incident.assigned_to]
    ids = role_user_ids([incident.project_id], [Membership.Role.INCIDENT_RESPONDER]).get(incident.project_id, [])
    return list(get_user_model().objects.filter(pk__in=ids))
