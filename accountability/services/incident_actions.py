"""Corrective actions of an incident: each has an owner, a due date and a status.

open -> in_progress | done | cancelled; in_progress -> open | done | cancelled; done -> in_progress
(the fix did not hold; needs a note); cancelled is final. Cancelling needs a note.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accountability.actors import actor_label
from accountability.exceptions import InvalidTransition, NotAllowed, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import CorrectiveAction, Incident, Membership
from accountability.permissions import Perm, has_perm, require

from ._common import jsonable, raise_if, tracked_save
from ._incident_common import Kind, add_event, incident_url, locked
from .notifications import notification_send

Status = CorrectiveAction.Status
ACTION_TRANSITIONS: dict[str, set[str]] = {
    Status.OPEN: {Status.IN_PROGRESS, Status.DONE, Status.CANCELLED},
    Status.IN_PROGRESS: {Status.OPEN, Status.DONE, Status.CANCELLED},
    Status.DONE: {Status.IN_PROGRESS},
    Status.CANCELLED: set(),
}


@transaction.atomic
def corrective_action_add(
    *, actor, incident: Incident, description: str, due_date: dt.date, owner=None, owner_name: str = ""
) -> CorrectiveAction:
    """Add a corrective action with its owner (a member of the project, or a named outsider) and due date."""
    require(actor, incident.project, Perm.INCIDENT_MANAGE)
    incident = locked(incident)
    if incident.status == Incident.Status.CLOSED:
        raise InvalidTransition(f"{incident.public_id} is closed; reopen it to add actions.")
    errors = {}
    if not (description or "").strip():
        errors["description"] = ["Describe the action."]
    if not isinstance(due_date, dt.date):
        errors["due_date"] = ["Give a due date."]
    elif due_date < timezone.localdate():
        errors["due_date"] = ["The due date cannot be in the past."]
    if owner is not None and not Membership.objects.filter(project=incident.project, user=owner).exists():
        errors["owner"] = [f"{owner.get_username()} is not a member of {incident.project.key}."]
    if owner is None and not (owner_name or "").strip():
        errors["owner"] = ["Name the owner (a project member or, for an outside party, a name)."]
    raise_if(errors)
    action = CorrectiveAction(
        project=incident.project,
        incident=incident,
        description=description.strip(),
        owner=owner,
        owner_name=(owner_name or "").strip() or (owner.get_full_name() or owner.get_username()),
        due_date=due_date,
    )
    tracked_save(action, actor=actor, reason="corrective action added")
    entry = record_governance(
        actor=actor,
        project=incident.project,
        action_type="incident.corrective_action_add",
        description=f"{action.public_id} added to {incident.public_id}, owner {action.owner_name}, due {due_date}",
        subject=action,
        changes=jsonable({"incident": incident.public_id, "owner": action.owner_name, "due_date": due_date}),
    )
    add_event(
        incident,
        Kind.ACTION_ADDED,
        actor=actor,
        message=f"{action.public_id}: {action.description} (owner {action.owner_name}, due {due_date}).",
        ledger=entry,
        related={"corrective_action": action.public_id},
    )
    if owner is not None:
        notification_send(
            recipients=[owner],
            kind="corrective_action.assigned",
            project=incident.project,
            subject=f"Corrective action {action.public_id} for {incident.public_id} is yours, due {due_date}",
            body=action.description,
            url=incident_url(incident.pk),
            dedupe_key=f"corrective_action.assigned:{action.pk}",
        )
    return action


@transaction.atomic
def corrective_action_set_status(*, actor, action: CorrectiveAction, status: str, note: str = "") -> CorrectiveAction:
    """Move a corrective action to another status (its owner may too)."""
    is_owner = action.owner_id is not None and action.owner_id == getattr(actor, "pk", None)
    if not (is_owner and has_perm(actor, action.project, Perm.INCIDENT_VIEW)):
        require(actor, action.project, Perm.INCIDENT_MANAGE)
    action = (
        CorrectiveAction.objects.select_for_update(of=("self",)).select_related("incident", "project").get(pk=action.pk)
    )
    if action.incident.status == Incident.Status.CLOSED:
        raise InvalidTransition(f"{action.incident.public_id} is closed; its actions are frozen.")
    if status not in Status.values:
        raise ValidationFailed({"status": [f"Must be one of: {', '.join(Status.values)}."]})
    old = action.status
    if status not in ACTION_TRANSITIONS[old]:
        allowed = ", ".join(sorted(ACTION_TRANSITIONS[old])) or "none (cancelled is final)"
        raise InvalidTransition(f"{action.public_id} cannot move from {old} to {status}; allowed: {allowed}.")
    if status == Status.CANCELLED and not (note or "").strip():
        raise ValidationFailed({"note": ["Say why the action is cancelled."]})
    if old == Status.DONE and not (note or "").strip():
        raise ValidationFailed({"note": ["Say why the action is reopened."]})
    if status == Status.CANCELLED and is_owner and not has_perm(actor, action.project, Perm.INCIDENT_MANAGE):
        raise NotAllowed("Only incident managers cancel corrective actions.")
    action.status, action.status_note = status, (note or "").strip()
    action.completed_at = timezone.now() if status == Status.DONE else None
    tracked_save(action, actor=actor, reason=f"{old} -> {status}")
    entry = record_governance(
        actor=actor,
        project=action.project,
        action_type="incident.corrective_action_status",
        description=f"{action.public_id} of {action.incident.public_id} {old} -> {status}",
        subject=action,
        changes={"status": [old, status]},
        rationale=note,
    )
    add_event(
        action.incident,
        Kind.ACTION_STATUS,
        actor=actor,
        message=f"{action.public_id} {old} -> {status} by {actor_label(actor)}. {note}".strip(),
        ledger=entry,
        related={"corrective_action": action.public_id},
    )
    return action
