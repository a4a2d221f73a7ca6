"""The remediation lifecycle: open -> investigating -> mitigated -> resolved -> closed.

Guards: resolving needs a root cause, closing needs lessons learned and no open corrective action,
nothing leaves closed except reopening, which needs a reason. An illegal move raises InvalidTransition
and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone

from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import CorrectiveAction, Incident
from accountability.permissions import Perm, require
from accountability.rules.incidents import allowed_transitions, root_cause_tag_errors, transition_target

from ._common import jsonable, raise_if, tracked_save
from ._incident_common import Kind, add_event, emit, incident_url, locked
from .notifications import notification_send

Status = Incident.Status


def _transition(
    *,
    actor,
    incident: Incident,
    name: str,
    apply: Callable[[Incident], dict] | None = None,
    message: str = "",
    rationale: str = "",
) -> Incident:
    require(actor, incident.project, Perm.INCIDENT_MANAGE)
    incident = locked(incident)
    old = incident.status
    new = transition_target(name, old)
    if new is None:
        allowed = ", ".join(allowed_transitions(old)) or "none"
        raise InvalidTransition(f"{incident.public_id} is {old}: it cannot {name}. Allowed: {allowed}.")
    extra = apply(incident) if apply else {}
    incident.status = new
    tracked_save(incident, actor=actor, reason=f"{old} -> {new}")
    entry = record_governance(
        actor=actor,
        project=incident.project,
        action_type=f"incident.{name}",
        description=f"{incident.public_id} {old} -> {new}",
        subject=incident,
        changes=jsonable({"status": [old, new], **extra}),
        rationale=rationale,
    )
    event = add_event(
        incident,
        Kind.STATUS,
        actor=actor,
        from_status=old,
        to_status=new,
        message=message or f"{old} -> {new}.",
        ledger=entry,
    )
    emit(incident, "incident.status_changed", f"incident.status:{event.pk}", previous_status=old)
    if new in (Status.RESOLVED, Status.CLOSED) and incident.reported_by_id:
        notification_send(
            recipients=[incident.reported_by],
            kind=f"incident.{new}",
            project=incident.project,
            subject=f"{incident.public_id} {new}: {incident.title}",
            body=f"The incident you reported is {new}.",
            url=incident_url(incident.pk),
            dedupe_key=f"incident.{new}:{event.pk}",
        )
    return incident


@transaction.atomic
def incident_investigate(*, actor, incident: Incident, note: str = "") -> Incident:
    """Start (or, after a failed mitigation, resume) the investigation."""
    return _transition(actor=actor, incident=incident, name="investigate", message=note.strip(), rationale=note)


@transaction.atomic
def incident_mitigate(*, actor, incident: Incident, note: str) -> Incident:
    """Record that the harm is contained (say how); the root cause may still be open."""

    def apply(inc: Incident) -> dict:
        if not (note or "").strip():
            raise ValidationFailed({"note": ["Say how the incident was mitigated."]})
        return {"mitigation": note.strip()}

    return _transition(
        actor=actor, incident=incident, name="mitigate", apply=apply, message=f"Mitigated: {note}".strip()
    )


@transaction.atomic
def incident_resolve(
    *,
    actor,
    incident: Incident,
    root_cause: str,
    root_cause_tags: Sequence[str] = (),
    lessons_learned: str = "",
) -> Incident:
    """Resolve with a root cause (and its tags); a resolution after the SLA deadline records the breach."""
    now = timezone.now()

    def apply(inc: Incident) -> dict:
        errors = {}
        if not (root_cause or "").strip():
            errors["root_cause"] = ["Resolving needs a root cause."]
        tag_errors = root_cause_tag_errors(list(root_cause_tags))
        if tag_errors:
            errors["root_cause_tags"] = tag_errors
        raise_if(errors)
        inc.root_cause, inc.root_cause_tags = root_cause.strip(), list(root_cause_tags)
        if (lessons_learned or "").strip():
            inc.lessons_learned = lessons_learned.strip()
        inc.resolved_at = now
        late = inc.sla_breached_at is None and now > inc.sla_due_at
        if late:
            inc.sla_breached_at = now
        return {"root_cause_tags": inc.root_cause_tags, "resolved_at": now, "late": late or bool(inc.sla_breached_at)}

    tags = f" [{', '.join(root_cause_tags)}]" if root_cause_tags else ""
    return _transition(
        actor=actor,
        incident=incident,
        name="resolve",
        apply=apply,
        message=f"Resolved. Root cause{tags}: {(root_cause or '').strip()}",
        rationale=root_cause,
    )


@transaction.atomic
def incident_close(*, actor, incident: Incident, lessons_learned: str = "") -> Incident:
    """Close a resolved incident once its lessons are learned and its corrective actions are finished."""
    now = timezone.now()

    def apply(inc: Incident) -> dict:
        lessons = (lessons_learned or "").strip() or inc.lessons_learned.strip()
        if not lessons:
            raise ValidationFailed({"lessons_learned": ["Closing needs the lessons learned."]})
        pending = inc.corrective_actions.filter(
            status__in=[CorrectiveAction.Status.OPEN, CorrectiveAction.Status.IN_PROGRESS]
        ).count()
        if pending:
            raise InvalidTransition(
                f"{inc.public_id} has {pending} open corrective action(s); finish or cancel them first."
            )
        inc.lessons_learned, inc.closed_at = lessons, now
        return {"closed_at": now}

    return _transition(actor=actor, incident=incident, name="close", apply=apply, message="Closed; lessons recorded.")


@transaction.atomic
def incident_reopen(*, actor, incident: Incident, reason: str) -> Incident:
    """Reopen a resolved or closed incident for investigation; the reason is required and recorded."""

    def apply(inc: Incident) -> dict:
        if not (reason or "").strip():
            raise ValidationFailed({"reason": ["Reopening needs a reason."]})
        before = {"resolved_at": inc.resolved_at, "closed_at": inc.closed_at}
        inc.resolved_at = inc.closed_at = None
        inc.reopen_count += 1
        return {"before": before, "reopen_count": inc.reopen_count}

    return _transition(
        actor=actor,
        incident=incident,
        name="reopen",
        apply=apply,
        message=f"Reopened: {(reason or '').strip()}",
        rationale=reason,
    )
