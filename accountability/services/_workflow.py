"""Driving viewflow from services: find a process's open step, lock it, claim it, execute it.

viewflow transitions do not check permissions, so every service checks the actor first and only then
runs a step here; viewflow's own errors become domain errors (a lost race is a 409, never a 500).
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from types import ModuleType

from viewflow.fsm import TransitionNotAllowed
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accountability.actors import actor_label, is_system
from accountability.exceptions import Conflict, InvalidTransition, NotAllowed

OPEN_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def flows() -> ModuleType:
    """The flows module (imported late: flows call services, services start and advance flows)."""
    return importlib.import_module("accountability.flows")


def open_tasks(process, node, *, owner=None):
    """Open human tasks of ``node`` in ``process`` (optionally those owned by ``owner``)."""
    qs = Task.objects.filter(process_id=process.pk, flow_task=node, status__in=OPEN_STATUSES)
    if owner is not None:
        qs = qs.filter(owner_id=owner.pk)
    return qs.order_by("pk")


def open_task(process, node, *, owner=None, what: str = "step") -> Task:
    """The one open task of ``node``; InvalidTransition when the process is not waiting there."""
    task = open_tasks(process, node, owner=owner).first()
    if task is None:
        raise InvalidTransition(f"There is no open {what} for you here.")
    return task


@contextmanager
def run_task(task: Task, user):
    """Lock the process, claim ``task`` for ``user`` when unclaimed, start it, yield its activation for the
    caller's changes (same transaction), then execute it so the flow moves on."""
    if user is None or is_system(user):
        raise NotAllowed("Only a person completes this step.")
    try:
        with task.activation() as activation:
            if activation.task.status not in (STATUS.NEW, STATUS.ASSIGNED):
                raise InvalidTransition("This step is no longer open (someone else completed it).")
            if activation.task.owner_id is None:
                activation.assign(user)
            elif activation.task.owner_id != user.pk:
                raise Conflict(f"This step is claimed by {actor_label(activation.task.owner)}.")
            activation.start(None)
            yield activation
            activation.execute()
    except FlowLockFailed as exc:
        raise Conflict("Someone else is working on this process right now; try again.") from exc
    except TransitionNotAllowed as exc:
        raise InvalidTransition("This step is no longer open (someone else completed it).") from exc


@contextmanager
def locked_process(flow_class, process):
    """Hold the process lock (the same lock every step takes) for changes outside a step."""
    try:
        with flow_class.lock(process.pk):
            yield
    except FlowLockFailed as exc:
        raise Conflict("Someone else is working on this process right now; try again.") from exc


def claim(task: Task, user) -> Task:
    """Assign an unclaimed task to ``user`` under the process lock."""
    try:
        with task.activation() as activation:
            if activation.task.status != STATUS.NEW or activation.task.owner_id is not None:
                raise InvalidTransition("This step is already claimed or closed.")
            activation.assign(user)
    except FlowLockFailed as exc:
        raise Conflict("Someone else is working on this process right now; try again.") from exc
    except TransitionNotAllowed as exc:
        raise InvalidTransition("This step is already claimed or closed.") from exc
    return task


def release(task: Task, user) -> Task:
    """Put a claimed task back in the queue (its owner only)."""
    try:
        with task.activation() as activation:
            if activation.task.status != STATUS.ASSIGNED or activation.task.owner_id != user.pk:
                raise InvalidTransition("Only the person who claimed an open step can release it.")
            activation.unassign()
    except FlowLockFailed as exc:
        raise Conflict("Someone else is working on this process right now; try again.") from exc
    except TransitionNotAllowed as exc:
        raise InvalidTransition("Only the person who claimed an open step can release it.") from exc
    return task
