"""Appeal endpoints: GET/POST /appeals, and one POST per step (assign, resolve, escalate, withdraw,
information). An appellant gets the appellant's view of their own appeals; the case file (reviewer,
decision takers, escalation) is for staff, the CAIO, auditors, the reviewer and the escalation official."""

from __future__ import annotations

import django_filters as df
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accountability.exceptions import NotAllowed
from accountability.models import Appeal, AppealNote
from accountability.selectors import appeals as appeal_sel
from accountability.selectors import workflow as task_sel
from accountability.services import appeals as appeal_svc

from .fields import ProjectKeyField, UseCaseIdField, UsernameField
from .steps import TaskSerializer
from .views import ScopedViewSet, _valid

# --- output -------------------------------------------------------------------------------------------


class AppealNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppealNote
        fields = ["author_label", "body", "created_at"]
        read_only_fields = fields


APPELLANT_FIELDS = {
    "id",
    "project",
    "use_case",
    "decision_trace_id",
    "reason",
    "status",
    "outcome",
    "resolution",
    "resolution_date",
    "created_at",
    "assignment_due_at",
    "decision_due_at",
    "notes",
}


class AppealSerializer(serializers.ModelSerializer):
    """The case file; trimmed to the appellant's view for readers who see only their own appeal."""

    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    use_case = serializers.SerializerMethodField()
    appellant = serializers.SerializerMethodField()
    reviewer = serializers.SerializerMethodField()
    escalated_to = serializers.SerializerMethodField()
    resolved_by = serializers.SerializerMethodField()
    resolution_date = serializers.DateTimeField(source="resolved_at", read_only=True)
    decision_takers = serializers.SerializerMethodField()
    notes = AppealNoteSerializer(many=True, read_only=True)

    class Meta:
        model = Appeal
        fields = [
            "id",
            "project",
            "use_case",
            "decision_trace_id",
            "decision_entry_id",
            "appellant",
            "appellant_name",
            "appellant_email",
            "appellant_phone",
            "appellant_postal_address",
            "reason",
            "status",
            "reviewer",
            "assigned_at",
            "escalated_to",
            "escalated_to_label",
            "escalated_at",
            "escalation_reason",
            "outcome",
            "resolution",
            "resolution_date",
            "resolved_by",
            "decision_takers",
            "created_at",
            "assignment_due_at",
            "decision_due_at",
            "assignment_breached_at",
            "decision_breached_at",
            "notes",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not appeal_sel.appeal_sees_case_file(request.user, instance):
            data = {k: v for k, v in data.items() if k in APPELLANT_FIELDS}
        return data

    def get_use_case(self, obj) -> str | None:
        return obj.use_case.public_id if obj.use_case_id else None

    def get_appellant(self, obj) -> str | None:
        return obj.appellant.get_username() if obj.appellant_id else None

    def get_reviewer(self, obj) -> str | None:
        return obj.reviewer.get_username() if obj.reviewer_id else None

    def get_escalated_to(self, obj) -> str | None:
        return obj.escalated_to.get_username() if obj.escalated_to_id else None

    def get_resolved_by(self, obj) -> str | None:
        return obj.resolved_by.get_username() if obj.resolved_by_id else None

    def get_decision_takers(self, obj) -> list[str]:
        return [u.get_username() for u in obj.decision_takers.all()]


# --- input --------------------------------------------------------------------------------------------


class AppealCreateSerializer(serializers.Serializer):
    project = ProjectKeyField()
    decision_trace_id = serializers.CharField(max_length=64, help_text="W3C trace id of the contested decision.")
    reason = serializers.CharField()
    use_case = UseCaseIdField(required=False)
    appellant = UsernameField(required=False, help_text="Coordinators: the appellant's username.")
    appellant_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    appellant_email = serializers.EmailField(required=False, allow_blank=True, default="")
    appellant_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    appellant_postal_address = serializers.CharField(required=False, allow_blank=True, default="")
    decided_by = serializers.ListField(child=UsernameField(), required=False, default=list)


class AssignReviewerSerializer(serializers.Serializer):
    reviewer = UsernameField()
    decided_by = serializers.ListField(
        child=UsernameField(), required=False, default=list, help_text="Who took the contested decision."
    )


class ResolveSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[(o.value, o.label) for o in appeal_svc.DECISION_OUTCOMES])
    resolution = serializers.CharField()


class EscalateSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ReviewStepSerializer(serializers.Serializer):
    """The payload of the reviewer's step: resolve (outcome, resolution) or escalate (reason)."""

    action = serializers.ChoiceField(choices=["resolve", "escalate"])
    outcome = serializers.ChoiceField(
        choices=[(o.value, o.label) for o in appeal_svc.DECISION_OUTCOMES], required=False
    )
    resolution = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)

    def validate(self, attrs):
        needed = ["outcome", "resolution"] if attrs["action"] == "resolve" else ["reason"]
        missing = {name: ["This field is required."] for name in needed if not attrs.get(name)}
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class InformationSerializer(serializers.Serializer):
    body = serializers.CharField()


class AppealFilter(df.FilterSet):
    project = df.CharFilter(field_name="project__key")
    breached = df.BooleanFilter(field_name="assignment_breached_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Appeal
        fields = ["project", "status", "outcome", "breached"]


# --- views --------------------------------------------------------------------------------------------


class AppealViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Appeals of AI-affected decisions (M-25-21 §4(b)(vi))."""

    serializer_class = AppealSerializer
    getter = staticmethod(appeal_sel.appeal_get)
    filterset_class = AppealFilter
    ordering_fields = ["created_at", "assignment_due_at", "decision_due_at", "status"]

    def get_queryset(self):
        return appeal_sel.appeal_list(self.request.user).prefetch_related("notes", "decision_takers")

    def retrieve(self, request, pk=None):
        return self.out(self.get_object())

    @extend_schema(request=AppealCreateSerializer, responses=AppealSerializer)
    def create(self, request):
        """Submit an appeal (appellants for themselves; coordinators also for outside persons)."""
        appeal = appeal_svc.appeal_submit(actor=request.user, **_valid(AppealCreateSerializer, request))
        return self.out(appeal, code=status.HTTP_201_CREATED)

    @extend_schema(request=AssignReviewerSerializer, responses=AppealSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign the reviewer (coordinators)."""
        data = _valid(AssignReviewerSerializer, request)
        return self.out(appeal_svc.appeal_assign_reviewer(actor=request.user, appeal=self.get_object(), **data))

    @extend_schema(request=ResolveSerializer, responses=AppealSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Record the decision (the reviewer, or the escalation official)."""
        data = _valid(ResolveSerializer, request)
        return self.out(appeal_svc.appeal_resolve(actor=request.user, appeal=self.get_object(), **data))

    @extend_schema(request=EscalateSerializer, responses=AppealSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        """Escalate to the CAIO or the delegated official (the reviewer)."""
        data = _valid(EscalateSerializer, request)
        return self.out(appeal_svc.appeal_escalate(actor=request.user, appeal=self.get_object(), **data))

    @extend_schema(request=WithdrawSerializer, responses=AppealSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw the appeal (the appellant); its process is cancelled."""
        data = _valid(WithdrawSerializer, request)
        return self.out(appeal_svc.appeal_withdraw(actor=request.user, appeal=self.get_object(), **data))

    @extend_schema(request=InformationSerializer, responses=AppealSerializer)
    @action(detail=True, methods=["post"])
    def information(self, request, pk=None):
        """Add information to an open appeal (the appellant)."""
        appeal = self.get_object()
        appeal_svc.appeal_add_information(actor=request.user, appeal=appeal, **_valid(InformationSerializer, request))
        return self.out(appeal_sel.appeal_get(request.user, appeal.public_id), code=status.HTTP_201_CREATED)

    @extend_schema(responses=TaskSerializer(many=True))
    @action(detail=True, methods=["get"])
    def tasks(self, request, pk=None):
        """The appeal's workflow steps: who did what, and when (case-file readers)."""
        appeal = self.get_object()
        if not appeal_sel.appeal_sees_case_file(request.user, appeal):
            raise NotAllowed("Only the case file's readers see its steps.")
        return Response(TaskSerializer(task_sel.process_tasks(appeal), many=True).data)

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Change history of the appeal (auditors, governance staff, CAIO)."""
        return self.history_response(self.get_object())
