"""Claiming and releasing queued workflow steps, and reporting processes that stalled in the background.

Completing a step is always a domain service (``appeal_assign_reviewer``, ``ethics_score_submit``…);
claiming only reserves an unassigned step for one person of the right role. Claims are workflow state
recorded on viewflow's task row (owner, assigned time), not governance changes, so they write no ledger
entry.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from viewflow.workflow.status import STATUS

from accountability.actors import is_system
from accountability.exceptions import InvalidTransition, NotAllowed
from accountability.models import Appeal, Membership, WorkflowTask
from accountability.permissions import Perm, require
from accountability.selectors import appeals as appeal_sel
from accountability.selectors import workflow as task_sel

from . import _workflow
from .notifications import notification_send

CLAIMABLE = {"assign_reviewer", "escalate", "decide"}


def _require_claim_right(actor, task: WorkflowTask) -> None:
    subject = task_sel.task_subject(task)
    name = task.flow_task.name
    if name not in CLAIMABLE:
        raise InvalidTransition("This step belongs to a named person; it cannot be claimed or released.")
    if isinstance(subject, Appeal):
        if name == "assign_reviewer":
            require(actor, subject.project, Perm.APPEAL_COORDINATE)
            if subject.appellant_id == actor.pk or subject.decision_takers.filter(pk=actor.pk).exists():
                raise NotAllowed("You are a party to this appeal and cannot coordinate it.")
        elif not appeal_sel.appeal_can_decide_escalation(actor, subject):
            raise NotAllowed("Only the CAIO role, free of conflict, takes this escalation.")
    else:
        require(actor, subject.project, Perm.ETHICS_DECIDE)
        if subject.submitted_by_id == actor.pk:
            raise NotAllowed("The submitter does not decide their own review.")


@transaction.atomic
def workflow_task_claim(*, actor, task: WorkflowTask) -> WorkflowTask:
    """Claim an unassigned step from the queue for yourself."""
    task = task_sel.task_get(actor, task.pk)
    if is_system(actor):
        raise NotAllowed("Only a person claims a step.")
    _require_claim_right(actor, task)
    _workflow.claim(task, actor)
    return task_sel.task_get(actor, task.pk)


@transaction.atomic
def workflow_task_release(*, actor, task: WorkflowTask) -> WorkflowTask:
    """Put a step you claimed back in the queue."""
    task = task_sel.task_get(actor, task.pk)
    if task.flow_task.name not in CLAIMABLE:
        raise InvalidTransition("This step belongs to a named person; it cannot be claimed or released.")
    _workflow.release(task, actor)
    return task_sel.task_get(actor, task.pk)


def workflow_report_stalled(*, actor) -> int:
    """Tell governance staff (once per task) about steps that failed in the background (status ERROR),
    which otherwise stall their process silently. Returns the number of new reports."""
    if not is_system(actor):
        raise NotAllowed("The stalled-process report runs as a system actor.")
    reported = 0
    for task in task_sel.task_visible(actor).filter(status=STATUS.ERROR).order_by("pk"):
        subject = task_sel.task_subject(task)
        staff = get_user_model().objects.filter(
            icdev_memberships__project=subject.project,
            icdev_memberships__role=Membership.Role.GOVERNANCE_STAFF,
            is_active=True,
        )
        reported += bool(
            notification_send(
                recipients=list(staff.distinct()),
                kind="workflow.stalled",
                project=subject.project,
                subject=f"The process of {subject.public_id} stalled at '{task.flow_task.name}'",
                body="A background step failed. An administrator must look at the task and retry it.",
                dedupe_key=f"workflow.stalled:{task.pk}",
            )
        )
    return reported
