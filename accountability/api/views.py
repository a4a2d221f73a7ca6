"""Registry endpoints. Views parse input, call one service, and serialise the result."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accountability.exceptions import NotFound, ValidationFailed
from accountability.selectors import registry as sel
from accountability.services import caio as caio_svc
from accountability.services import notifications as notify_svc
from accountability.services import oversight as plan_svc
from accountability.services import projects as project_svc
from accountability.services import stakeholders as sh_svc
from accountability.services import use_cases as uc_svc

from . import filters
from . import serializers as s
from .history import history_rows


def _valid(serializer_class, request, **kwargs) -> dict:
    ser = serializer_class(data=request.data, context={"request": request}, **kwargs)
    ser.is_valid(raise_exception=True)
    return dict(ser.validated_data)


class ScopedViewSet(viewsets.GenericViewSet):
    """Objects are fetched through a selector by their public id, so other projects' rows are 404."""

    lookup_value_regex = r"[A-Za-z0-9_.-]+"
    getter = None

    def get_object(self):
        return type(self).getter(self.request.user, self.kwargs[self.lookup_url_kwarg or self.lookup_field])

    def out(self, obj, serializer_class=None, code=status.HTTP_200_OK):
        cls = serializer_class or self.get_serializer_class()
        return Response(cls(obj, context=self.get_serializer_context()).data, status=code)

    def history_response(self, obj):
        records = sel.history_list(self.request.user, obj)
        try:
            limit = max(1, min(int(self.request.query_params.get("limit", 100)), 500))
        except ValueError:
            limit = 100
        return Response({"count": records.count(), "results": history_rows(records[: limit + 1])[:limit]})


class ProjectViewSet(mixins.ListModelMixin, ScopedViewSet):
    serializer_class = s.ProjectSerializer
    lookup_field = "key"
    getter = staticmethod(sel.project_get)
    search_fields = ["key", "name", "organization", "program"]
    ordering_fields = ["key", "name", "created_at"]
    filterset_fields = ["is_federal_agency", "is_cfo_act_agency"]

    def get_queryset(self):
        return sel.project_list(self.request.user)

    def retrieve(self, request, key=None):
        return self.out(self.get_object())

    @extend_schema(request=s.ProjectCreateSerializer, responses=s.ProjectSerializer)
    def create(self, request):
        project = project_svc.project_create(actor=request.user, **_valid(s.ProjectCreateSerializer, request))
        return self.out(project, code=status.HTTP_201_CREATED)

    @extend_schema(request=s.ProjectUpdateSerializer, responses=s.ProjectSerializer)
    def partial_update(self, request, key=None):
        data = _valid(s.ProjectUpdateSerializer, request, partial=True)
        return self.out(project_svc.project_update(actor=request.user, project=self.get_object(), **data))

    @extend_schema(request=s.MembershipInputSerializer, responses=s.MembershipSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def members(self, request, key=None):
        """GET the members and roles; POST {user, role} to grant a role."""
        project = self.get_object()
        if request.method == "POST":
            data = _valid(s.MembershipInputSerializer, request)
            membership = project_svc.membership_grant(
                actor=request.user, project=project, user=data["user"], role=data["role"]
            )
            return self.out(membership, s.MembershipSerializer, status.HTTP_201_CREATED)
        return Response(s.MembershipSerializer(sel.membership_list(request.user, project), many=True).data)

    @extend_schema(request=s.MembershipInputSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="members/revoke")
    def revoke_member(self, request, key=None):
        """Take a role away from a user."""
        data = _valid(s.MembershipInputSerializer, request)
        project_svc.membership_revoke(
            actor=request.user, project=self.get_object(), user=data["user"], role=data["role"], reason=data["reason"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["get"])
    def history(self, request, key=None):
        """Change history of the project (auditors, governance staff, CAIO)."""
        return self.history_response(self.get_object())


class UseCaseViewSet(mixins.ListModelMixin, ScopedViewSet):
    serializer_class = s.UseCaseSerializer
    getter = staticmethod(sel.use_case_get)
    filterset_class = filters.UseCaseFilter
    search_fields = ["name", "purpose", "bureau", "topic_area"]
    ordering_fields = ["id", "name", "stage", "created_at", "updated_at"]

    def get_queryset(self):
        return sel.use_case_list(self.request.user).order_by("id")

    def retrieve(self, request, pk=None):
        return self.out(self.get_object())

    @extend_schema(request=s.UseCaseCreateSerializer, responses=s.UseCaseSerializer)
    def create(self, request):
        data = _valid(s.UseCaseCreateSerializer, request)
        return self.out(uc_svc.use_case_create(actor=request.user, **data), code=status.HTTP_201_CREATED)

    @extend_schema(request=s.UseCaseUpdateSerializer, responses=s.UseCaseSerializer)
    def partial_update(self, request, pk=None):
        data = _valid(s.UseCaseUpdateSerializer, request, partial=True)
        return self.out(uc_svc.use_case_update(actor=request.user, use_case=self.get_object(), **data))

    @extend_schema(request=s.DeterminationSerializer, responses=s.UseCaseSerializer)
    @action(detail=True, methods=["post"])
    def determination(self, request, pk=None):
        """Record the high-impact determination (M-25-21 §4(a))."""
        data = _valid(s.DeterminationSerializer, request)
        return self.out(uc_svc.use_case_record_determination(actor=request.user, use_case=self.get_object(), **data))

    @extend_schema(request=s.StageSerializer, responses=s.UseCaseSerializer)
    @action(detail=True, methods=["post"])
    def stage(self, request, pk=None):
        """Move the use case to another lifecycle stage."""
        data = _valid(s.StageSerializer, request)
        return self.out(uc_svc.use_case_change_stage(actor=request.user, use_case=self.get_object(), **data))

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def completeness(self, request, pk=None):
        """Which fields the use case's stage requires are missing."""
        return Response(sel.use_case_completeness(request.user, self.get_object()).as_dict())

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def responsibility(self, request, pk=None):
        """How responsibility for the use case is shared between stakeholders."""
        return Response(sel.responsibility_allocation(request.user, self.get_object()))

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Change history of the use case."""
        return self.history_response(self.get_object())


class CAIOViewSet(mixins.ListModelMixin, ScopedViewSet):
    serializer_class = s.CAIOSerializer
    getter = staticmethod(sel.caio_get)
    filterset_class = filters.CAIOFilter
    search_fields = ["official_name", "official_email"]
    ordering_fields = ["effective_date", "expiry_date", "created_at"]

    def get_queryset(self):
        return sel.caio_list(self.request.user)

    def retrieve(self, request, pk=None):
        return self.out(self.get_object())

    @extend_schema(request=s.CAIOCreateSerializer, responses=s.CAIOSerializer)
    def create(self, request):
        data = _valid(s.CAIOCreateSerializer, request)
        return self.out(caio_svc.caio_designate(actor=request.user, **data), code=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReasonSerializer, responses=s.CAIOSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the designation, with a reason."""
        data = _valid(s.ReasonSerializer, request)
        return self.out(caio_svc.caio_revoke(actor=request.user, designation=self.get_object(), **data))

    @extend_schema(request=s.DelegateSerializer, responses=s.CAIOSerializer)
    @action(detail=True, methods=["post"])
    def delegate(self, request, pk=None):
        """Append a delegate to the delegation chain."""
        data = _valid(s.DelegateSerializer, request)
        return self.out(caio_svc.caio_add_delegation(actor=request.user, designation=self.get_object(), **data))

    @extend_schema(request=s.UndelegateSerializer, responses=s.CAIOSerializer)
    @action(detail=True, methods=["post"])
    def undelegate(self, request, pk=None):
        """Withdraw a delegate (and everyone delegated below it)."""
        data = _valid(s.UndelegateSerializer, request)
        return self.out(caio_svc.caio_remove_delegation(actor=request.user, designation=self.get_object(), **data))

    @extend_schema(request=s.OmbNotificationSerializer, responses=s.CAIOSerializer)
    @action(detail=True, methods=["post"], url_path="omb-notification")
    def omb_notification(self, request, pk=None):
        """Record the date OMB was notified."""
        data = _valid(s.OmbNotificationSerializer, request)
        return self.out(
            caio_svc.caio_record_omb_notification(actor=request.user, designation=self.get_object(), **data)
        )

    @extend_schema(parameters=[OpenApiParameter("project", str, required=True)], responses=dict)
    @action(detail=False, methods=["get"])
    def status(self, request):
        """The CAIO status of one project (?project=proj-101)."""
        key = request.query_params.get("project", "")
        if not key:
            raise ValidationFailed({"project": ["This query parameter is required."]})
        info = sel.caio_status(request.user, sel.project_get(request.user, key))
        ctx = self.get_serializer_context()
        info["active"] = s.CAIOSerializer(info["active"], context=ctx).data if info["active"] else None
        info["designations"] = s.CAIOSerializer(info["designations"], many=True, context=ctx).data
        return Response(info)

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Change history of the designation."""
        return self.history_response(self.get_object())


class OversightPlanViewSet(mixins.ListModelMixin, ScopedViewSet):
    serializer_class = s.OversightPlanSerializer
    getter = staticmethod(sel.oversight_plan_get)
    filterset_class = filters.OversightPlanFilter
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return sel.oversight_plan_list(self.request.user).order_by("id")

    def _detail(self, plan, code=status.HTTP_200_OK):
        plan = sel.oversight_plan_get(self.request.user, plan.public_id)
        return self.out(plan, s.OversightPlanDetailSerializer, code)

    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    @extend_schema(request=s.OversightPlanCreateSerializer, responses=s.OversightPlanDetailSerializer)
    def create(self, request):
        data = _valid(s.OversightPlanCreateSerializer, request)
        version = plan_svc.oversight_plan_create(actor=request.user, **data)
        return self._detail(version.plan, status.HTTP_201_CREATED)

    @extend_schema(request=s.OversightPlanNewVersionSerializer, responses=s.PlanVersionSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def versions(self, request, pk=None):
        """GET every version; POST a change to insert the next version as a draft."""
        plan = self.get_object()
        if request.method == "POST":
            data = _valid(s.OversightPlanNewVersionSerializer, request)
            version = plan_svc.oversight_plan_new_version(actor=request.user, plan=plan, **data)
            return self.out(version, s.PlanVersionSerializer, status.HTTP_201_CREATED)
        return Response(s.PlanVersionSerializer(sel.oversight_version_list(request.user, plan), many=True).data)

    @extend_schema(request=s.ApproveSerializer, responses=s.PlanVersionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the draft version (never by its own author)."""
        data = _valid(s.ApproveSerializer, request)
        version = plan_svc.oversight_plan_approve(actor=request.user, plan=self.get_object(), **data)
        return self.out(version, s.PlanVersionSerializer)

    @extend_schema(request=s.ReasonSerializer, responses=s.PlanVersionSerializer)
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        """Discard the draft version."""
        data = _valid(s.ReasonSerializer, request)
        version = plan_svc.oversight_plan_discard_draft(actor=request.user, plan=self.get_object(), **data)
        return self.out(version, s.PlanVersionSerializer)

    @extend_schema(request=s.ReasonSerializer, responses=s.PlanVersionSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """Archive the active version without a successor."""
        data = _valid(s.ReasonSerializer, request)
        version = plan_svc.oversight_plan_retire(actor=request.user, plan=self.get_object(), **data)
        return self.out(version, s.PlanVersionSerializer)

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Change history of the plan's identity row (each version has its own rows, see versions)."""
        return self.history_response(self.get_object())


class StakeholderViewSet(mixins.ListModelMixin, ScopedViewSet):
    serializer_class = s.StakeholderSerializer
    getter = staticmethod(sel.stakeholder_get)
    filterset_class = filters.StakeholderFilter
    search_fields = ["name", "organization", "contact_name"]
    ordering_fields = ["id", "responsibility_share", "created_at"]

    def get_queryset(self):
        return sel.stakeholder_list(self.request.user).prefetch_related("obligations").order_by("id")

    def retrieve(self, request, pk=None):
        return self.out(self.get_object())

    @extend_schema(request=s.StakeholderCreateSerializer, responses=s.StakeholderSerializer)
    def create(self, request):
        data = _valid(s.StakeholderCreateSerializer, request)
        return self.out(sh_svc.stakeholder_add(actor=request.user, **data), code=status.HTTP_201_CREATED)

    @extend_schema(request=s.StakeholderUpdateSerializer, responses=s.StakeholderSerializer)
    def partial_update(self, request, pk=None):
        data = _valid(s.StakeholderUpdateSerializer, request, partial=True)
        return self.out(sh_svc.stakeholder_update(actor=request.user, stakeholder=self.get_object(), **data))

    @extend_schema(request=s.ReasonSerializer, responses=s.StakeholderSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """End the party's involvement; its share is released."""
        data = _valid(s.ReasonSerializer, request)
        return self.out(sh_svc.stakeholder_deactivate(actor=request.user, stakeholder=self.get_object(), **data))

    @extend_schema(request=s.AllocationSerializer, responses=s.StakeholderSerializer(many=True))
    @action(detail=False, methods=["post"])
    def allocate(self, request):
        """Re-allocate all shares of a use case at once (they must total exactly 100 %)."""
        data = _valid(s.AllocationSerializer, request)
        parties = sh_svc.stakeholder_set_shares(actor=request.user, use_case=data["use_case"], shares=data["shares"])
        return Response(s.StakeholderSerializer(parties, many=True).data)

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Change history of the stakeholder."""
        return self.history_response(self.get_object())


class ObligationViewSet(mixins.ListModelMixin, ScopedViewSet):
    serializer_class = s.ObligationSerializer
    getter = staticmethod(sel.obligation_get)
    filterset_class = filters.ObligationFilter
    search_fields = ["description", "contract_reference"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return sel.obligation_list(self.request.user).order_by("id")

    def retrieve(self, request, pk=None):
        return self.out(self.get_object())

    @extend_schema(request=s.ObligationCreateSerializer, responses=s.ObligationSerializer)
    def create(self, request):
        data = _valid(s.ObligationCreateSerializer, request)
        return self.out(sh_svc.obligation_add(actor=request.user, **data), code=status.HTTP_201_CREATED)

    @extend_schema(request=s.ObligationStatusSerializer, responses=s.ObligationSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        """Move the obligation to another status (met, breached, waived, ended)."""
        data = _valid(s.ObligationStatusSerializer, request)
        return self.out(sh_svc.obligation_set_status(actor=request.user, obligation=self.get_object(), **data))

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Change history of the obligation."""
        return self.history_response(self.get_object())


class NotificationViewSet(mixins.ListModelMixin, ScopedViewSet):
    """The caller's inbox; ``?unread=1`` for unread only, ``?kind=`` by event."""

    serializer_class = s.NotificationSerializer
    filterset_fields = ["kind", "project__key"]

    def get_queryset(self):
        unread = self.request.query_params.get("unread") in ("1", "true", "yes")
        return sel.notification_list(self.request.user, unread_only=unread)

    def get_object(self):
        note = (
            sel.notification_list(self.request.user).filter(pk=self.kwargs["pk"]).first()
            if str(self.kwargs["pk"]).isdigit()
            else None
        )
        if note is None:
            raise NotFound("No such notification.")
        return note

    @extend_schema(request=None, responses=s.NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark the notification read."""
        return self.out(notify_svc.notification_mark_read(actor=request.user, notification=self.get_object()))

    @extend_schema(request=None, responses={200: {"type": "object", "properties": {"marked": {"type": "integer"}}}})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark every unread notification read."""
        return Response({"marked": notify_svc.notification_mark_all_read(actor=request.user)})

    @extend_schema(responses={200: {"type": "object", "properties": {"unread": {"type": "integer"}}}})
    @action(detail=False, methods=["get"])
    def count(self, request):
        """How many notifications are unread (the number in the admin header)."""
        return Response({"unread": sel.notification_list(request.user, unread_only=True).count()})
