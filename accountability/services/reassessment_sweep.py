"""The reassessment sweep (run by beat): schedules that became overdue or due (inside the due-soon window)
tell their assignee once per due date; overdue ones are escalated to the CAIO after the configured delay."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.utils import timezone

from accountability.config import policy
from accountability.models import Membership, ReassessmentSchedule
from accountability.rules.reassessments import due_soon_days

from ._incident_common import admin_url
from ._recipients import caio_user_ids, role_user_ids
from ._sweep import BATCH_SIZE, FlagPass, require_sweeper, run_pass

Status = ReassessmentSchedule.Status
FIELDS = ("assigned_to_id", "assessment_type", "next_due", "use_case_id", "due_reason")


def _ras_id(pk: int) -> str:
    return f"{ReassessmentSchedule.PUBLIC_ID_PREFIX}-{pk:05d}"


def _url(pk: int) -> str:
    return admin_url("admin:accountability_reassessmentschedule_change", pk)


def _assignees(rows: list[dict]) -> dict[int, list[int]]:
    """The assignee of each schedule, else the governance staff of its project."""
    unassigned = {r["project_id"] for r in rows if not r["assigned_to_id"]}
    staff = role_user_ids(unassigned, [Membership.Role.GOVERNANCE_STAFF]) if unassigned else {}
    return {r["pk"]: [r["assigned_to_id"]] if r["assigned_to_id"] else staff.get(r["project_id"], []) for r in rows}


def _caio(rows: list[dict]) -> dict[int, list[int]]:
    caios = caio_user_ids({r["project_id"] for r in rows})
    return {r["pk"]: caios.get(r["project_id"], []) for r in rows}


def _what(r: dict) -> str:
    target = f"UC-{r['use_case_id']:05d}" if r["use_case_id"] else "the project"
    return f"{_ras_id(r['pk'])} ({r['assessment_type']} of {target})"


def _payload(r: dict) -> dict:
    return {"assessment_type": r["assessment_type"], "next_due": r["next_due"], "due_reason": r["due_reason"]}


def _active(**filters):
    return ReassessmentSchedule.objects.filter(is_active=True, **filters)


def _passes(today: dt.date) -> list[FlagPass]:
    window = due_soon_days()
    delay = dt.timedelta(hours=policy()["escalation"]["caio_delay_hours"])
    common = {
        "model": ReassessmentSchedule,
        "fields": FIELDS,
        "public_id": lambda r: _ras_id(r["pk"]),
        "payload": _payload,
    }
    overdue = FlagPass(
        name="reassessment.overdue",
        candidates=lambda now: _active(status__in=[Status.ON_TRACK, Status.DUE], next_due__lt=today),
        deadline="next_due",
        set_values=lambda now: {"status": Status.OVERDUE, "status_changed_at": now, "updated_at": now},
        history_reason="overdue",
        describe=lambda n: f"{n} reassessment(s) overdue",
        recipients=_assignees,
        message=lambda r: (f"Reassessment overdue: {_what(r)}", f"It was due on {r['next_due']}.", _url(r["pk"])),
        dedupe_key=lambda r: f"reassessment.overdue:{r['pk']}:{r['next_due']}",
        webhook_kind="reassessment.overdue",
        **common,
    )
    due = FlagPass(
        name="reassessment.due",
        candidates=lambda now: _active(
            status=Status.ON_TRACK, next_due__gte=today, next_due__lte=today + dt.timedelta(days=window)
        ),
        deadline="next_due",
        set_values=lambda now: {"status": Status.DUE, "status_changed_at": now, "updated_at": now},
        history_reason="due soon",
        describe=lambda n: f"{n} reassessment(s) due within {window} days",
        recipients=_assignees,
        message=lambda r: (f"Reassessment due: {_what(r)}", f"It is due on {r['next_due']}.", _url(r["pk"])),
        dedupe_key=lambda r: f"reassessment.due:{r['pk']}:{r['next_due']}",
        webhook_kind="reassessment.due",
        **common,
    )
    escalate = FlagPass(
        name="reassessment.escalate",
        candidates=lambda now: _active(
            status=Status.OVERDUE, escalated_at__isnull=True, status_changed_at__lte=now - delay
        ),
        deadline="status_changed_at",
        set_values=lambda now: {"escalated_at": now, "updated_at": now},
        history_reason="escalated to the CAIO",
        describe=lambda n: f"{n} overdue reassessment(s) escalated to the CAIO",
        recipients=_caio,
        message=lambda r: (
            f"Escalation: reassessment overdue: {_what(r)}",
            f"It was due on {r['next_due']} and is still not completed.",
            _url(r["pk"]),
        ),
        dedupe_key=lambda r: f"reassessment.escalated:{r['pk']}:{r['next_due']}",
        webhook_kind="reassessment.escalated",
        **common,
    )
    return [overdue, due, escalate]


@dataclass
class ReassessmentSweepResult:
    overdue: int = 0
    due: int = 0
    escalated: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def reassessment_sweep(
    *, actor, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE
) -> ReassessmentSweepResult:
    """Flag and notify, once per due date: overdue schedules, schedules due soon, and CAIO escalations."""
    require_sweeper(actor)
    now = now or timezone.now()
    overdue, due, escalate = _passes(timezone.localdate(now))
    kw = {"actor": actor, "now": now, "batch_size": batch_size}
    return ReassessmentSweepResult(
        overdue=run_pass(overdue, **kw), due=run_pass(due, **kw), escalated=run_pass(escalate, **kw)
    )
