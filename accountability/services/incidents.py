"""AI incidents: log, update the record, triage (severity, assignee), notes and links to other records.
The remediation lifecycle lives in ``incident_lifecycle``; coordination and EU reporting in
``incident_coordination``; corrective actions in ``incident_actions``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from accountability.actors import actor_label, history_user, is_system
from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import AIUseCase, Incident, Project
from accountability.permissions import Perm, has_perm, require
from accountability.rules.incidents import default_severity, incident_types, sla_due_at

from ._common import full_clean, jsonable, raise_if, tracked_save
from ._incident_common import Kind, add_event, emit, incident_url, locked, owners_of, when
from .incident_coordination import create_stakeholder_notices, send_stakeholder_notices
from .notifications import notification_send

Severity = Incident.Severity

# Fields of the GV-4.3-002 record that can be completed or corrected while the incident is not closed.
RECORD_FIELDS = {
    "title",
    "description",
    "incident_type",
    "affected_systems",
    "detected_at",
    "occurred_at",
    "source",
    "data_reported",
    "impacts",
    "stakeholders_impacted",
    "reporter_name",
}
LINKABLE = {"appeal", "agent_session", "ledger_entry", "ethics_review", "incident"}


def _record_errors(values: dict, project: Project, now: dt.datetime) -> dict:
    errors: dict[str, list[str]] = {}
    if "title" in values and not str(values["title"] or "").strip():
        errors["title"] = ["Give the incident a title."]
    types = incident_types()
    if "incident_type" in values and values["incident_type"] not in types:
        errors["incident_type"] = [f"Must be one of: {', '.join(types)}."]
    systems = values.get("affected_systems", [])
    if not isinstance(systems, list | tuple) or any(not isinstance(s, str) or not s.strip() for s in systems):
        errors["affected_systems"] = ["Give a list of non-empty system identifiers."]
    for name in ("detected_at", "occurred_at"):
        when = values.get(name)
        if when is not None and not isinstance(when, dt.datetime):
            errors[name] = ["Give a date and time."]
        elif when is not None and when > now:
            errors[name] = ["Cannot be in the future."]
    occurred, detected = values.get("occurred_at"), values.get("detected_at")
    if isinstance(occurred, dt.datetime) and isinstance(detected, dt.datetime) and occurred > detected:
        errors["occurred_at"] = ["The incident cannot have happened after it was detected."]
    use_cases = values.get("use_cases", [])
    if any(uc.project_id != project.pk for uc in use_cases):
        errors["use_cases"] = ["Every affected use case must belong to the incident's project."]
    return errors


def _check_assignee(user, project: Project, errors: dict) -> None:
    if user is not None and not has_perm(user, project, Perm.INCIDENT_MANAGE):
        errors["assigned_to"] = [f"{user.get_username()} cannot manage incidents in {project.key}."]


@transaction.atomic
def incident_log(
    *,
    actor,
    project: Project,
    title: str,
    severity: str = "",
    incident_type: str = Incident.Type.OTHER,
    description: str = "",
    use_cases: Sequence[AIUseCase] = (),
    affected_systems: Sequence[str] = (),
    detected_at: dt.datetime | None = None,
    occurred_at: dt.datetime | None = None,
    source: str = "",
    data_reported: str = "",
    impacts: str = "",
    stakeholders_impacted: str = "",
    reporter_name: str = "",
    assigned_to=None,
    reported_at: dt.datetime | None = None,
) -> Incident:
    """Log an incident: its resolution SLA runs from its report; the affected use cases' parties are told."""
    # reported_at defaults to now; an earlier report through another channel may be given (stricter SLA).
    require(actor, project, Perm.INCIDENT_REPORT)
    now = timezone.now()
    use_cases = list(dict.fromkeys(use_cases))
    severity = severity or default_severity(incident_type)
    values = {
        "title": title,
        "incident_type": incident_type,
        "affected_systems": list(affected_systems),
        "detected_at": detected_at,
        "occurred_at": occurred_at,
        "use_cases": use_cases,
    }
    errors = _record_errors(values, project, now)
    if severity not in Severity.values:
        errors["severity"] = [f"Must be one of: {', '.join(Severity.values)}."]
    _check_assignee(assigned_to, project, errors)
    reported_at = reported_at or now
    # Backdating only ever makes the SLA stricter (it runs from the report), never longer.
    if not isinstance(reported_at, dt.datetime) or reported_at > now:
        errors["reported_at"] = ["Give a date and time that is not in the future."]
    elif isinstance(detected_at, dt.datetime) and detected_at > reported_at:
        errors["reported_at"] = ["An incident cannot be reported before it was detected."]
    raise_if(errors)
    incident = Incident(
        project=project,
        title=title.strip(),
        description=description,
        incident_type=incident_type,
        severity=severity,
        affected_systems=[s.strip() for s in affected_systems],
        reported_by=history_user(actor),
        reporter_name=(reporter_name or "").strip() or _display_name(actor),
        reported_at=reported_at,
        detected_at=detected_at,
        occurred_at=occurred_at,
        source=source,
        data_reported=data_reported,
        impacts=impacts,
        stakeholders_impacted=stakeholders_impacted,
        assigned_to=assigned_to,
        sla_due_at=sla_due_at(reported_at, severity),
    )
    full_clean(incident)
    tracked_save(incident, actor=actor, reason="incident logged")
    incident.use_cases.set(use_cases)
    entry = record_governance(
        actor=actor,
        project=project,
        action_type="incident.log",
        description=f"{incident.public_id} '{incident.title}' logged ({severity}, {incident_type})",
        subject=incident,
        changes=jsonable(
            {
                "severity": severity,
                "incident_type": incident_type,
                "use_cases": [uc.public_id for uc in use_cases],
                "affected_systems": incident.affected_systems,
                "reported_at": reported_at,
                "sla_due_at": incident.sla_due_at,
            }
        ),
    )
    add_event(
        incident,
        Kind.LOGGED,
        actor=actor,
        to_status=incident.status,
        message=f"Logged as {severity} {incident_type}; resolve by {when(incident.sla_due_at)}.",
        ledger=entry,
    )
    notices = create_stakeholder_notices(incident, [uc.pk for uc in use_cases], actor=actor)
    if notices:
        send_stakeholder_notices(actor=actor, incident=incident, notices=notices, automatic=True)
    notification_send(
        recipients=[u for u in owners_of(incident) if getattr(u, "pk", None) != getattr(actor, "pk", None)],
        kind="incident.logged",
        project=project,
        subject=f"[{severity}] {incident.public_id} {incident.title}",
        body=f"A {severity} incident was logged by {incident.reporter_name}; resolve by {incident.sla_due_at}.",
        url=incident_url(incident.pk),
        dedupe_key=f"incident.logged:{incident.pk}",
    )
    emit(incident, "incident.logged", f"incident.logged:{incident.pk}")
    return incident


def _display_name(actor) -> str:
    if is_system(actor):
        return actor.name
    return (actor.get_full_name() or actor.get_username()).strip()


def _open_for_changes(incident: Incident) -> None:
    if incident.status == Incident.Status.CLOSED:
        raise InvalidTransition(f"{incident.public_id} is closed; reopen it to change it.")


@transaction.atomic
def incident_update(*, actor, incident: Incident, use_cases: Sequence[AIUseCase] | None = None, **changes) -> Incident:
    """Complete or correct the incident record (GV-4.3-002 fields, affected use cases and systems)."""
    require(actor, incident.project, Perm.INCIDENT_MANAGE)
    incident = locked(incident)
    _open_for_changes(incident)
    unknown = sorted(set(changes) - RECORD_FIELDS)
    if unknown:
        raise ValidationFailed({f: ["This field cannot be changed here."] for f in unknown})
    now = timezone.now()
    check = dict(changes)
    check.setdefault("detected_at", incident.detected_at)
    check.setdefault("occurred_at", incident.occurred_at)
    if use_cases is not None:
        check["use_cases"] = list(use_cases)
    raise_if(_record_errors(check, incident.project, now))
    diff = {}
    for name, new in changes.items():
        new = new.strip() if isinstance(new, str) else new
        if getattr(incident, name) != new:
            diff[name] = [jsonable(getattr(incident, name)), jsonable(new)]
            setattr(incident, name, new)
    added_ids: list[int] = []
    if use_cases is not None:
        before = set(incident.use_cases.values_list("pk", flat=True))
        after = {uc.pk for uc in use_cases}
        if before != after:
            diff["use_cases"] = [
                sorted(AIUseCase(pk=pk).public_id for pk in before),
                sorted(uc.public_id for uc in use_cases),
            ]
            incident.use_cases.set(list(use_cases))
            added_ids = sorted(after - before)
    if not diff:
        return incident
    full_clean(incident)
    tracked_save(incident, actor=actor, reason="record updated")
    entry = record_governance(
        actor=actor,
        project=incident.project,
        action_type="incident.update",
        description=f"{incident.public_id} record updated: {', '.join(sorted(diff))}",
        subject=incident,
        changes=diff,
    )
    add_event(incident, Kind.UPDATED, actor=actor, message=f"Updated {', '.join(sorted(diff))}.", ledger=entry)
    notices = create_stakeholder_notices(incident, added_ids, actor=actor) if added_ids else []
    if notices:
        send_stakeholder_notices(actor=actor, incident=incident, notices=notices, automatic=True)
    return incident


@transaction.atomic
def incident_change_severity(*, actor, incident: Incident, severity: str, reason: str) -> Incident:
    """Re-triage: the SLA deadline is recomputed from when the incident was logged."""
    require(actor, incident.project, Perm.INCIDENT_MANAGE)
    incident = locked(incident)
    if not incident.is_open:
        raise InvalidTransition(f"{incident.public_id} is {incident.status}; only open incidents are re-triaged.")
    errors = {}
    if severity not in Severity.values:
        errors["severity"] = [f"Must be one of: {', '.join(Severity.values)}."]
    elif severity == incident.severity:
        errors["severity"] = [f"{incident.public_id} is already {severity}."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why the severity changes."]
    raise_if(errors)
    now = timezone.now()
    old, old_due = incident.severity, incident.sla_due_at
    incident.severity = severity
    incident.sla_due_at = sla_due_at(incident.reported_at, severity)
    cleared = incident.sla_breached_at is not None and incident.sla_due_at > now
    if cleared:  # the breach was against a deadline that no longer applies
        incident.sla_breached_at = incident.sla_escalated_at = None
    tracked_save(incident, actor=actor, reason=f"severity {old} -> {severity}")
    entry = record_governance(
        actor=actor,
        project=incident.project,
        action_type="incident.change_severity",
        description=f"{incident.public_id} severity {old} -> {severity}",
        subject=incident,
        changes=jsonable({"severity": [old, severity], "sla_due_at": [old_due, incident.sla_due_at]}),
        rationale=reason,
    )
    add_event(
        incident,
        Kind.SEVERITY,
        actor=actor,
        message=f"Severity {old} -> {severity}; resolve by {when(incident.sla_due_at)}"
        + ("; the earlier SLA breach no longer applies." if cleared else ".")
        + f" {reason.strip()}",
        ledger=entry,
    )
    return incident


@transaction.atomic
def incident_assign(*, actor, incident: Incident, assignee) -> Incident:
    """Make a responder of the project answerable for the incident (escalations go to them first)."""
    require(actor, incident.project, Perm.INCIDENT_MANAGE)
    incident = locked(incident)
    _open_for_changes(incident)
    errors: dict = {}
    if assignee is None:
        errors["assigned_to"] = ["Choose a user."]
    else:
        _check_assignee(assignee, incident.project, errors)
    raise_if(errors)
    if incident.assigned_to_id == assignee.pk:
        return incident
    old = incident.assigned_to.get_username() if incident.assigned_to_id else None
    incident.assigned_to = assignee
    tracked_save(incident, actor=actor, reason=f"assigned to {assignee.get_username()}")
    entry = record_governance(
        actor=actor,
        project=incident.project,
        action_type="incident.assign",
        description=f"{incident.public_id} assigned to {assignee.get_username()}",
        subject=incident,
        changes={"assigned_to": [old, assignee.get_username()]},
    )
    event = add_event(
        incident, Kind.ASSIGNED, actor=actor, message=f"Assigned to {assignee.get_username()}.", ledger=entry
    )
    notification_send(
        recipients=[assignee],
        kind="incident.assigned",
        project=incident.project,
        subject=f"You are responsible for {incident.public_id} {incident.title}",
        body=f"{actor_label(actor)} assigned you the {incident.severity} incident; resolve by {incident.sla_due_at}.",
        url=incident_url(incident.pk),
        dedupe_key=f"incident.assigned:{event.pk}",
    )
    return incident


@transaction.atomic
def incident_add_note(*, actor, incident: Incident, text: str) -> Incident:
    """Add a note to the timeline (findings, decisions, contacts made)."""
    require(actor, incident.project, Perm.INCIDENT_MANAGE)
    incident = locked(incident)
    if not (text or "").strip():
        raise ValidationFailed({"text": ["Write the note."]})
    entry = record_governance(
        actor=actor,
        project=incident.project,
        action_type="incident.note",
        description=f"Note on {incident.public_id}",
        subject=incident,
        rationale=text.strip(),
    )
    add_event(incident, Kind.NOTE, actor=actor, message=text.strip(), ledger=entry)
    return incident


@transaction.atomic
def incident_link_record(*, actor, incident: Incident, record_type: str, record_id: str, note: str = "") -> Incident:
    """Link another record to the timeline: an appeal, an agent session, a ledger entry, a review."""
    require(actor, incident.project, Perm.INCIDENT_MANAGE)
    incident = locked(incident)
    errors = {}
    if record_type not in LINKABLE:
        errors["record_type"] = [f"Must be one of: {', '.join(sorted(LINKABLE))}."]
    if not (record_id or "").strip():
        errors["record_id"] = ["Give the id of the record."]
    raise_if(errors)
    entry = record_governance(
        actor=actor,
        project=incident.project,
        action_type="incident.link",
        description=f"{record_type} {record_id.strip()} linked to {incident.public_id}",
        subject=incident,
        changes={"record_type": record_type, "record_id": record_id.strip()},
        rationale=note,
        related=[{"type": record_type, "id": record_id.strip()}],
    )
    add_event(
        incident,
        Kind.LINKED,
        actor=actor,
        message=note.strip() or f"Linked {record_type} {record_id.strip()}.",
        ledger=entry,
        related={record_type: record_id.strip()},
    )
    return incident
