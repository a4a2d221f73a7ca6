"""Workflow-step endpoints: the caller's inbox and queue, claim, release, and complete with a payload.

``complete`` validates the payload of the step's kind and calls that step's service, exactly as the
appeal and ethics-review endpoints do."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accountability.exceptions import InvalidTransition
from accountability.selectors import workflow as task_sel
from accountability.services import appeals as appeal_svc
from accountability.services import ethics as ethics_svc
from accountability.services import ethics_scores as scores_svc
from accountability.services import workflow as workflow_svc

from . import appeals as appeal_api
from . import ethics as ethics_api
from .steps import TaskSerializer
from .views import ScopedViewSet, _valid


def _assign(actor, subject, data):
    return appeal_svc.appeal_assign_reviewer(actor=actor, appeal=subject, **data)


def _review(actor, subject, data):
    if data.pop("action") == "escalate":
        return appeal_svc.appeal_escalate(actor=actor, appeal=subject, reason=data["reason"])
    return appeal_svc.appeal_resolve(
        actor=actor, appeal=subject, outcome=data["outcome"], resolution=data["resolution"]
    )


def _escalated(actor, subject, data):
    return appeal_svc.appeal_resolve(actor=actor, appeal=subject, **data)


def _score(actor, subject, data):
    return scores_svc.ethics_score_submit(actor=actor, review=subject, **data)


def _decide(actor, subject, data):
    return ethics_svc.ethics_review_decide(actor=actor, review=subject, **data)


def _revise(actor, subject, data):
    return ethics_svc.ethics_review_revise(actor=actor, review=subject, **data)


# step name -> (payload serializer, service call)
STEPS = {
    "assign_reviewer": (appeal_api.AssignReviewerSerializer, _assign),
    "review": (appeal_api.ReviewStepSerializer, _review),
    "escalate": (appeal_api.ResolveSerializer, _escalated),
    "score": (ethics_api.ScoreInputSerializer, _score),
    "decide": (ethics_api.DecideSerializer, _decide),
    "revise": (ethics_api.ReviseSerializer, _revise),
}


class TaskViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Workflow steps of appeals and ethics reviews."""

    serializer_class = TaskSerializer
    getter = staticmethod(task_sel.task_get)
    lookup_value_regex = r"[0-9]+"
    filter_backends = []

    def get_queryset(self):
        box = self.request.query_params.get("box", "all")
        return task_sel.task_list(self.request.user, box if box in ("inbox", "queue") else "all")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "box",
                str,
                enum=["inbox", "queue", "all"],
                description="Steps assigned to you, unclaimed steps your role may claim, or both (default).",
            )
        ]
    )
    def list(self, request, *args, **kwargs):
        """The caller's inbox and queue."""
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        return self.out(self.get_object())

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Claim an unassigned step from your queue."""
        return self.out(workflow_svc.workflow_task_claim(actor=request.user, task=self.get_object()))

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Put a step you claimed back in the queue."""
        return self.out(workflow_svc.workflow_task_release(actor=request.user, task=self.get_object()))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Complete a step with its payload: assign_reviewer {reviewer, decided_by?}; review {action: resolve,
        outcome, resolution | action: escalate, reason}; escalate {outcome, resolution}; score
        {conflict_of_interest, scores, comments?, conflict_details?}; decide {outcome, findings,
        recommendations?, conditions?}; revise {summary, material_url?}."""
        task = self.get_object()
        serializer_class, run = STEPS.get(task.flow_task.name, (None, None))
        if run is None:
            raise InvalidTransition("This step completes by itself.")
        run(request.user, task_sel.task_subject(task), _valid(serializer_class, request))
        task.refresh_from_db()
        return Response(TaskSerializer(task).data, status=status.HTTP_200_OK)
