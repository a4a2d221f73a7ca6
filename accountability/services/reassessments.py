"""Scheduled reassessments: create, change, complete (next_due advances by whole cadence steps from the
anchor), deactivate; a significant modification of a use case makes its reassessments due at once."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from accountability.actors import actor_label, history_user
from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import AIUseCase, Project, ReassessmentCompletion, ReassessmentSchedule
from accountability.permissions import Perm, has_perm, require
from accountability.rules.reassessments import (
    assessment_types,
    frequency_presets,
    next_due_after_completion,
    status_for,
)

from ._common import jsonable, raise_if, tracked_save
from ._incident_common import admin_url
from .notifications import notification_send
from .webhooks import Event, webhook_emit

Status = ReassessmentSchedule.Status
Trigger = ReassessmentSchedule.Trigger
MAX_BACKDATE_DAYS = 365


def _frequency(frequency_days, preset: str, errors: dict) -> int | None:
    presets = frequency_presets()
    if preset:
        if preset not in presets:
            errors["preset"] = [f"Must be one of: {', '.join(presets)}."]
            return None
        if frequency_days not in (None, presets[preset]):
            errors["frequency_days"] = [f"Give a preset or a number of days, not both ({preset} is {presets[preset]})."]
            return None
        return presets[preset]
    if isinstance(frequency_days, bool) or not isinstance(frequency_days, int) or frequency_days < 1:
        errors["frequency_days"] = ["Give a positive number of days (or a preset: " + ", ".join(presets) + ")."]
        return None
    if frequency_days > 3650:
        errors["frequency_days"] = ["At most 3650 days (ten years)."]
        return None
    return frequency_days


def _check_assignee(user, project: Project, errors: dict) -> None:
    if user is not None and not has_perm(user, project, Perm.REGISTRY_VIEW):
        errors["assigned_to"] = [f"{user.get_username()} is not a member of {project.key} who can read the registry."]


def _schedule_url(pk: int) -> str:
    return admin_url("admin:accountability_reassessmentschedule_change", pk)


@transaction.atomic
def reassessment_create(
    *,
    actor,
    project: Project,
    assessment_type: str,
    frequency_days: int | None = None,
    preset: str = "",
    use_case: AIUseCase | None = None,
    assigned_to=None,
    first_due: dt.date | None = None,
) -> ReassessmentSchedule:
    """Schedule a periodic reassessment; the first due date (default: one cadence from today) anchors it."""
    require(actor, project, Perm.REASSESSMENT_MANAGE)
    errors: dict = {}
    if assessment_type not in assessment_types():
        errors["assessment_type"] = [f"Must be one of: {', '.join(assessment_types())}."]
    days = _frequency(frequency_days, preset, errors)
    if use_case is not None and use_case.project_id != project.pk:
        errors["use_case"] = ["The use case belongs to another project."]
    elif use_case is not None and use_case.stage == AIUseCase.Stage.RETIRED:
        errors["use_case"] = [f"{use_case.public_id} is retired."]
    _check_assignee(assigned_to, project, errors)
    today = timezone.localdate()
    # A review already due when the schedule is recorded (onboarding an existing obligation) may be up to
    # a year in the past: it is overdue at once. Anything older is almost surely a typo.
    if first_due is not None and first_due < today - dt.timedelta(days=MAX_BACKDATE_DAYS):
        errors["first_due"] = [f"The first due date can be at most {MAX_BACKDATE_DAYS} days in the past."]
    raise_if(errors)
    if (
        use_case is not None
        and ReassessmentSchedule.objects.filter(
            use_case=use_case, assessment_type=assessment_type, is_active=True
        ).exists()
    ):
        raise ValidationFailed(
            {"assessment_type": [f"{use_case.public_id} already has an active {assessment_type} schedule."]}
        )
    anchor = first_due or today + dt.timedelta(days=days)
    now = timezone.now()
    schedule = ReassessmentSchedule(
        project=project,
        use_case=use_case,
        assessment_type=assessment_type,
        frequency_days=days,
        anchor_date=anchor,
        next_due=anchor,
        status=status_for(anchor, today),
        status_changed_at=now,
        assigned_to=assigned_to,
        created_by=history_user(actor),
    )
    tracked_save(schedule, actor=actor, reason="schedule created")
    record_governance(
        actor=actor,
        project=project,
        action_type="reassessment.create",
        description=f"{schedule.public_id}: {assessment_type} every {days} days, first due {anchor}",
        subject=schedule,
        changes=jsonable(
            {
                "use_case": use_case.public_id if use_case else None,
                "assessment_type": assessment_type,
                "frequency_days": days,
                "next_due": anchor,
                "assigned_to": assigned_to.get_username() if assigned_to else None,
            }
        ),
    )
    return schedule


def _locked(schedule: ReassessmentSchedule) -> ReassessmentSchedule:
    return (
        ReassessmentSchedule.objects.select_for_update(of=("self",))
        .select_related("project", "use_case")
        .get(pk=schedule.pk)
    )


@transaction.atomic
def reassessment_update(
    *,
    actor,
    schedule: ReassessmentSchedule,
    frequency_days: int | None = None,
    preset: str = "",
    assigned_to=None,
    unassign: bool = False,
) -> ReassessmentSchedule:
    """Change the cadence (the current due date stays and anchors the new cadence) or the assignee."""
    require(actor, schedule.project, Perm.REASSESSMENT_MANAGE)
    schedule = _locked(schedule)
    if not schedule.is_active:
        raise InvalidTransition(f"{schedule.public_id} is inactive.")
    errors: dict = {}
    days = _frequency(frequency_days, preset, errors) if (frequency_days is not None or preset) else None
    _check_assignee(assigned_to, schedule.project, errors)
    raise_if(errors)
    diff = {}
    if days is not None and days != schedule.frequency_days:
        diff["frequency_days"] = [schedule.frequency_days, days]
        diff["anchor_date"] = [schedule.anchor_date.isoformat(), schedule.next_due.isoformat()]
        schedule.frequency_days, schedule.anchor_date = days, schedule.next_due
    new_assignee = None if unassign else assigned_to
    if (unassign or assigned_to is not None) and schedule.assigned_to_id != getattr(new_assignee, "pk", None):
        old = schedule.assigned_to.get_username() if schedule.assigned_to_id else None
        diff["assigned_to"] = [old, new_assignee.get_username() if new_assignee else None]
        schedule.assigned_to = new_assignee
    if not diff:
        return schedule
    tracked_save(schedule, actor=actor, reason="schedule changed")
    record_governance(
        actor=actor,
        project=schedule.project,
        action_type="reassessment.update",
        description=f"{schedule.public_id} changed: {', '.join(sorted(diff))}",
        subject=schedule,
        changes=diff,
    )
    if new_assignee is not None and "assigned_to" in diff:
        notification_send(
            recipients=[new_assignee],
            kind="reassessment.assigned",
            project=schedule.project,
            subject=f"Reassessment {schedule.public_id} ({schedule.assessment_type}) is yours, due {schedule.next_due}",
            url=_schedule_url(schedule.pk),
            dedupe_key=f"reassessment.assigned:{schedule.pk}:{new_assignee.pk}:{schedule.next_due}",
        )
    return schedule


def _check_evidence(url: str, errors: dict) -> None:
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except DjangoValidationError:
            errors["evidence_url"] = ["Give a link (http or https) to the evidence."]


@transaction.atomic
def reassessment_complete(
    *,
    actor,
    schedule: ReassessmentSchedule,
    evidence_url: str = "",
    notes: str = "",
    completed_on: dt.date | None = None,
) -> ReassessmentCompletion:
    """Record a completed reassessment; next_due moves on by whole cadence steps from the anchor."""
    is_assignee = schedule.assigned_to_id is not None and schedule.assigned_to_id == getattr(actor, "pk", None)
    if not (is_assignee and has_perm(actor, schedule.project, Perm.REGISTRY_VIEW)):
        require(actor, schedule.project, Perm.REASSESSMENT_MANAGE)
    schedule = _locked(schedule)
    if not schedule.is_active:
        raise InvalidTransition(f"{schedule.public_id} is inactive.")
    today = timezone.localdate()
    completed_on = completed_on or today
    errors: dict = {}
    if completed_on > today:
        errors["completed_on"] = ["Cannot be in the future."]
    last = schedule.completions.order_by("-completed_on").values_list("completed_on", flat=True).first()
    if last is not None and completed_on < last:
        errors["completed_on"] = [f"Cannot be before the previous completion ({last})."]
    _check_evidence((evidence_url or "").strip(), errors)
    raise_if(errors)
    now = timezone.now()
    due_on, was_overdue = schedule.next_due, schedule.next_due < completed_on
    next_due = next_due_after_completion(schedule.anchor_date, schedule.frequency_days, due_on, completed_on)
    schedule.next_due, schedule.status, schedule.status_changed_at = next_due, status_for(next_due, today), now
    schedule.last_completed_at, schedule.last_completed_by = now, history_user(actor)
    schedule.escalated_at, schedule.due_reason, schedule.due_reason_detail = None, Trigger.CADENCE, ""
    tracked_save(schedule, actor=actor, reason="completed")
    entry = record_governance(
        actor=actor,
        project=schedule.project,
        action_type="reassessment.complete",
        description=f"{schedule.public_id} completed on {completed_on}"
        + (" (late)" if was_overdue else "")
        + f"; next due {next_due}",
        subject=schedule,
        changes=jsonable(
            {"due_on": due_on, "completed_on": completed_on, "next_due": next_due, "evidence": evidence_url}
        ),
        rationale=notes,
    )
    completion = ReassessmentCompletion.objects.create(
        schedule=schedule,
        completed_at=now,
        completed_on=completed_on,
        completed_by=history_user(actor),
        completed_by_name=actor_label(actor),
        evidence_url=(evidence_url or "").strip(),
        notes=(notes or "").strip(),
        due_on=due_on,
        was_overdue=was_overdue,
        next_due=next_due,
        ledger_entry_id=entry.entry_id,
    )
    webhook_emit(
        [
            Event(
                project_id=schedule.project_id,
                project_key=schedule.project.key,
                kind="reassessment.completed",
                data={"id": schedule.public_id, "completed_on": completed_on, "next_due": next_due},
                dedupe_key=f"reassessment.completed:{completion.pk}",
            )
        ]
    )
    return completion


@transaction.atomic
def reassessment_deactivate(*, actor, schedule: ReassessmentSchedule, reason: str) -> ReassessmentSchedule:
    """Stop a schedule (it stays readable with its history); the reason is required."""
    require(actor, schedule.project, Perm.REASSESSMENT_MANAGE)
    schedule = _locked(schedule)
    if not schedule.is_active:
        raise InvalidTransition(f"{schedule.public_id} is already inactive.")
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the schedule stops."]})
    _deactivate(actor, schedule, reason.strip())
    return schedule


def _deactivate(actor, schedule: ReassessmentSchedule, reason: str) -> None:
    schedule.is_active, schedule.deactivated_reason = False, reason
    tracked_save(schedule, actor=actor, reason="deactivated")
    record_governance(
        actor=actor,
        project=schedule.project,
        action_type="reassessment.deactivate",
        description=f"{schedule.public_id} deactivated",
        subject=schedule,
        rationale=reason,
    )


def mark_due_for_modification(
    *, actor, use_case: AIUseCase, description: str, source: str, record: bool = True
) -> list:
    """Make every active schedule of the use case due today (part of a service that checked permissions)."""
    now, today = timezone.now(), timezone.localdate()
    schedules = list(
        ReassessmentSchedule.objects.select_for_update(of=("self",))
        .select_related("project", "assigned_to")
        .filter(use_case=use_case, is_active=True)
    )
    for schedule in schedules:
        if schedule.next_due > today:
            schedule.next_due, schedule.status, schedule.status_changed_at = today, Status.DUE, now
        schedule.due_reason, schedule.due_reason_detail = Trigger.SIGNIFICANT_MODIFICATION, f"{source}: {description}"
        tracked_save(schedule, actor=actor, reason="significant modification")
        if schedule.assigned_to_id:
            notification_send(
                recipients=[schedule.assigned_to],
                kind="reassessment.due",
                project=schedule.project,
                subject=f"Reassessment due now: {schedule.public_id} ({schedule.assessment_type}) of "
                f"{use_case.public_id}",
                body=f"{use_case.public_id} was significantly modified ({description}).",
                url=_schedule_url(schedule.pk),
                dedupe_key=f"reassessment.modified:{schedule.pk}:{now.isoformat()}",
            )
    if schedules and record:
        record_governance(
            actor=actor,
            project=use_case.project,
            action_type="reassessment.due_now",
            description=f"{len(schedules)} reassessment(s) of {use_case.public_id} due now ({source})",
            subject=use_case,
            changes={"schedules": [s.public_id for s in schedules], "next_due": today.isoformat()},
            rationale=description,
        )
    return schedules


def deactivate_for_retired_use_case(*, actor, use_case: AIUseCase) -> int:
    """Stop the schedules of a use case that was retired (part of ``use_case_change_stage``)."""
    schedules = list(
        ReassessmentSchedule.objects.select_for_update(of=("self",))
        .select_related("project")
        .filter(use_case=use_case, is_active=True)
    )
    for schedule in schedules:
        _deactivate(actor, schedule, f"{use_case.public_id} was retired")
    return len(schedules)


@transaction.atomic
def reassessment_significant_modification(*, actor, use_case: AIUseCase, description: str) -> list:
    """Record a significant modification of a use case: its reassessments become due at once."""
    require(actor, use_case.project, Perm.REASSESSMENT_MANAGE)
    if not (description or "").strip():
        raise ValidationFailed({"description": ["Describe the modification."]})
    if use_case.stage == AIUseCase.Stage.RETIRED:
        raise InvalidTransition(f"{use_case.public_id} is retired.")
    schedules = mark_due_for_modification(
        actor=actor,
        use_case=use_case,
        description=description.strip(),
        source="significant modification",
        record=False,
    )
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="use_case.significant_modification",
        description=f"{use_case.public_id} significantly modified; {len(schedules)} reassessment(s) due now",
        subject=use_case,
        changes={"schedules": [s.public_id for s in schedules]},
        rationale=description.strip(),
    )
    return schedules
