"""Appeal deadlines: flag and notify a missed reviewer assignment (the flow's timer, and the sweep as a
safety net) or a missed decision, once each. The deadlines themselves are stored on the appeal when it
is submitted (``appeal_submit``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accountability.actors import SystemActor, is_system
from accountability.exceptions import NotAllowed
from accountability.ledger.append import record_governance
from accountability.models import Appeal, Membership, Project
from accountability.permissions import Perm, require

from ._common import tracked_save
from .appeals import _locked, _members, _url
from .notifications import notification_send

Status = Appeal.Status
SLA_ACTOR = SystemActor("workflow:appeal-sla")


def _require_system(actor, project: Project) -> None:
    if not is_system(actor):
        require(actor, project, Perm.APPEAL_COORDINATE)


@transaction.atomic
def appeal_flag_assignment_breach(*, actor, appeal: Appeal) -> bool:
    """Flag and notify a missed reviewer-assignment deadline once (the flow's timer and the sweep)."""
    _require_system(actor, appeal.project)
    appeal = _locked(appeal)
    now = timezone.now()
    if appeal.status != Status.SUBMITTED or appeal.assignment_due_at > now:
        return False
    if appeal.assignment_breached_at is not None and appeal.sla_notified_at is not None:
        return False
    newly_breached = appeal.assignment_breached_at is None
    appeal.assignment_breached_at = appeal.assignment_breached_at or now
    appeal.sla_notified_at = now
    tracked_save(appeal, actor=actor, reason="assignment SLA breached")
    if newly_breached:
        record_governance(
            actor=actor,
            project=appeal.project,
            action_type="appeal.sla_breach",
            description=f"{appeal.public_id} has no reviewer after the assignment deadline",
            subject=appeal,
            changes={"assignment_due_at": appeal.assignment_due_at.isoformat()},
        )
    notification_send(
        recipients=_members(appeal.project, Membership.Role.GOVERNANCE_STAFF, Membership.Role.CAIO),
        kind="appeal.sla_breached",
        project=appeal.project,
        subject=f"Appeal {appeal.public_id} missed its reviewer-assignment deadline",
        body=f"It was due {timezone.localtime(appeal.assignment_due_at):%Y-%m-%d %H:%M %Z}. Assign a reviewer now.",
        url=_url(appeal),
        dedupe_key=f"appeal.sla_breached:{appeal.pk}",
    )
    return True


@transaction.atomic
def appeal_flag_decision_breach(*, actor, appeal: Appeal) -> bool:
    """Flag and notify a missed decision deadline once."""
    _require_system(actor, appeal.project)
    appeal = _locked(appeal)
    now = timezone.now()
    if not appeal.is_open or appeal.decision_due_at > now or appeal.decision_breached_at is not None:
        return False
    appeal.decision_breached_at = now
    tracked_save(appeal, actor=actor, reason="decision SLA breached")
    record_governance(
        actor=actor,
        project=appeal.project,
        action_type="appeal.decision_sla_breach",
        description=f"{appeal.public_id} is undecided after its decision deadline",
        subject=appeal,
        changes={"decision_due_at": appeal.decision_due_at.isoformat(), "status": appeal.status},
    )
    holder = appeal.escalated_to or appeal.reviewer
    notification_send(
        recipients=[*([holder] if holder else []), *_members(appeal.project, Membership.Role.GOVERNANCE_STAFF)],
        kind="appeal.decision_overdue",
        project=appeal.project,
        subject=f"Appeal {appeal.public_id} is past its decision deadline",
        url=_url(appeal),
        dedupe_key=f"appeal.decision_overdue:{appeal.pk}",
    )
    return True


def appeal_sla_sweep(*, actor) -> dict:
    """Safety net behind the flow timers: flag every missed assignment or decision deadline (idempotent)."""
    if not is_system(actor):
        raise NotAllowed("The SLA sweep runs as a system actor.")
    now = timezone.now()
    missed_assignment = Appeal.objects.filter(
        status=Status.SUBMITTED, assignment_due_at__lte=now, sla_notified_at__isnull=True
    ).values_list("pk", flat=True)
    missed_decision = (
        Appeal.objects.exclude(status=Status.RESOLVED)
        .filter(decision_due_at__lte=now, decision_breached_at__isnull=True)
        .values_list("pk", flat=True)
    )
    flagged = {"assignment": 0, "decision": 0}
    for pk in list(missed_assignment):
        flagged["assignment"] += appeal_flag_assignment_breach(actor=actor, appeal=Appeal.objects.get(pk=pk))
    for pk in list(missed_decision):
        flagged["decision"] += appeal_flag_decision_breach(actor=actor, appeal=Appeal.objects.get(pk=pk))
    return flagged
