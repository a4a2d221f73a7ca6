"""Reads of workflow tasks (viewflow's task rows) scoped to our roles: the caller's inbox (steps assigned to
them), their queue (unclaimed steps their role may claim in their projects), and a process's task history.

viewflow's own ``Task.objects.inbox/queue`` rely on global Django permissions, not project roles, so the
portal, the API and the admin read tasks only through these selectors.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from viewflow.workflow.status import STATUS

from accountability.actors import is_system
from accountability.exceptions import NotFound
from accountability.models import Appeal, EthicsReview, WorkflowTask
from accountability.permissions import Perm, project_ids_with

APPEAL_FLOW = "accountability/flows.AppealFlow"
ETHICS_FLOW = "accountability/flows.EthicsReviewFlow"
APPEAL = "process__appealprocess__appeal"
REVIEW = "process__ethicsreviewprocess__review"
OPEN = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]
STEP_LABELS = {
    "assign_reviewer": "Assign a reviewer",
    "review": "Review the appeal: decide or escalate",
    "escalate": "Decide the escalated appeal",
    "score": "Score the ethics review",
    "decide": "Decide the ethics review",
    "revise": "Revise the submission",
}


def node_ref(flow_ref: str, node: str) -> str:
    """The string viewflow stores in ``Task.flow_task`` for a node."""
    return f"{flow_ref}.{node}"


def step_label(task) -> str:
    """A person-readable name of the task's step."""
    name = task.flow_task.name if task.flow_task else "?"
    return STEP_LABELS.get(name, name.replace("_", " "))


def _base() -> QuerySet[WorkflowTask]:
    return WorkflowTask.objects.filter(process__flow_class__in=[APPEAL_FLOW, ETHICS_FLOW]).select_related(
        "process", "owner", f"{APPEAL}__project", f"{REVIEW}__project"
    )


def _person(actor) -> bool:
    return actor is not None and not is_system(actor) and getattr(actor, "is_authenticated", False) and actor.is_active


def _in_projects(path: str, perm: Perm, actor) -> Q:
    ids = project_ids_with(actor, perm)
    return Q(**{f"{path}__isnull": False}) if ids is None else Q(**{f"{path}__project__in": ids})


def task_inbox(actor) -> QuerySet[WorkflowTask]:
    """Open human steps assigned to the actor."""
    if not _person(actor):
        return WorkflowTask.objects.none()
    return _base().filter(flow_task_type="HUMAN", owner=actor, status__in=[STATUS.ASSIGNED, STATUS.STARTED])


def task_queue(actor) -> QuerySet[WorkflowTask]:
    """Unclaimed steps the actor's roles may claim: reviewer assignment (coordinators), escalations left to
    the CAIO role, and ethics decisions (deciders other than the submitter)."""
    if not _person(actor):
        return WorkflowTask.objects.none()
    party = (
        Q(**{f"{APPEAL}__appellant": actor})
        | Q(**{f"{APPEAL}__decision_takers": actor})
        | Q(**{f"{APPEAL}__reviewer": actor})
    )
    claimable = (
        (Q(flow_task=node_ref(APPEAL_FLOW, "assign_reviewer")) & _in_projects(APPEAL, Perm.APPEAL_COORDINATE, actor))
        | (
            Q(flow_task=node_ref(APPEAL_FLOW, "escalate"), **{f"{APPEAL}__escalated_to__isnull": True})
            & _in_projects(APPEAL, Perm.APPEAL_ESCALATION, actor)
        )
        | (
            Q(flow_task=node_ref(ETHICS_FLOW, "decide"))
            & _in_projects(REVIEW, Perm.ETHICS_DECIDE, actor)
            & ~Q(**{f"{REVIEW}__submitted_by": actor})
        )
    )
    excluded = _base().filter(party).values("pk")
    return (
        _base()
        .filter(flow_task_type="HUMAN", status=STATUS.NEW, owner__isnull=True)
        .filter(claimable)
        .exclude(pk__in=excluded)
    )


def task_list(actor, box: str = "all") -> QuerySet[WorkflowTask]:
    """The actor's inbox, queue, or both (``box``: inbox / queue / all)."""
    if box == "inbox":
        return task_inbox(actor).order_by("created", "pk")
    if box == "queue":
        return task_queue(actor).order_by("created", "pk")
    inbox, queue = task_inbox(actor).order_by().values("pk"), task_queue(actor).order_by().values("pk")
    return _base().filter(Q(pk__in=inbox) | Q(pk__in=queue)).order_by("created", "pk")


def task_visible(actor) -> QuerySet[WorkflowTask]:
    """Every task the actor may look at: their inbox and queue, and all steps of the processes whose case
    file their role reads (appeals: APPEAL_VIEW; ethics reviews: ETHICS_VIEW)."""
    if not _person(actor) and not is_system(actor):
        return WorkflowTask.objects.none()
    cases = _in_projects(APPEAL, Perm.APPEAL_VIEW, actor) | _in_projects(REVIEW, Perm.ETHICS_VIEW, actor)
    mine = Q(owner=actor) if _person(actor) else Q(pk__in=[])
    queue = Q(pk__in=task_queue(actor).values("pk"))
    return _base().filter(cases | mine | queue)


def task_get(actor, pk) -> WorkflowTask:
    """One visible task by id; NotFound otherwise."""
    try:
        return task_visible(actor).get(pk=int(pk))
    except (ValueError, TypeError, WorkflowTask.DoesNotExist) as exc:
        raise NotFound(f"No task {pk!r}.") from exc


def task_subject(task) -> Appeal | EthicsReview:
    """The appeal or ethics review a task belongs to."""
    process = task.process.coerced
    return process.appeal if hasattr(process, "appeal") else process.review


def process_tasks(subject: Appeal | EthicsReview) -> QuerySet[WorkflowTask]:
    """Every step of the subject's process, oldest first (call after a visibility check)."""
    process = getattr(subject, "process", None)
    if process is None:
        return WorkflowTask.objects.none()
    return WorkflowTask.objects.filter(process_id=process.pk).select_related("owner").order_by("pk")


def open_steps(subject: Appeal | EthicsReview) -> list[WorkflowTask]:
    """The subject's open human steps."""
    return list(process_tasks(subject).filter(flow_task_type="HUMAN", status__in=OPEN))
