"""Reassessment endpoints: schedules, completions and significant modifications."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accountability.models import ReassessmentCompletion, ReassessmentSchedule
from accountability.rules.reassessments import frequency_label
from accountability.selectors import reassessments as sel
from accountability.services import reassessments as svc

from .fields import ProjectKeyField, UseCaseIdField, UsernameField
from .incident_filters import ReassessmentFilter
from .serializers import ReasonSerializer
from .views import ScopedViewSet, _valid


class ReassessmentCompletionSerializer(serializers.ModelSerializer):
    completed_by = serializers.CharField(source="completed_by_name", read_only=True)

    class Meta:
        model = ReassessmentCompletion
        fields = [
            "id",
            "completed_on",
            "completed_at",
            "completed_by",
            "evidence_url",
            "notes",
            "due_on",
            "was_overdue",
            "next_due",
            "ledger_entry_id",
        ]
        read_only_fields = fields


class ReassessmentScheduleSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    use_case = serializers.SerializerMethodField()
    frequency = serializers.SerializerMethodField()
    status = serializers.CharField(source="live_status", read_only=True, help_text="Due state today.")
    assigned_to = serializers.SerializerMethodField()
    last_completed_by = serializers.SerializerMethodField()
    completion_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = ReassessmentSchedule
        fields = [
            "id",
            "project",
            "use_case",
            "assessment_type",
            "frequency_days",
            "frequency",
            "anchor_date",
            "next_due",
            "status",
            "due_reason",
            "due_reason_detail",
            "assigned_to",
            "last_completed_at",
            "last_completed_by",
            "escalated_at",
            "is_active",
            "deactivated_reason",
            "completion_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_use_case(self, obj) -> str | None:
        return obj.use_case.public_id if obj.use_case_id else None

    def get_frequency(self, obj) -> str:
        return frequency_label(obj.frequency_days)

    def get_assigned_to(self, obj) -> str | None:
        return obj.assigned_to.get_username() if obj.assigned_to_id else None

    def get_last_completed_by(self, obj) -> str | None:
        return obj.last_completed_by.get_username() if obj.last_completed_by_id else None


class ReassessmentScheduleDetailSerializer(ReassessmentScheduleSerializer):
    completions = ReassessmentCompletionSerializer(many=True, read_only=True)

    class Meta(ReassessmentScheduleSerializer.Meta):
        fields = [*ReassessmentScheduleSerializer.Meta.fields, "completions"]
        read_only_fields = fields


class ReassessmentCreateSerializer(serializers.Serializer):
    project = ProjectKeyField()
    assessment_type = serializers.CharField(max_length=40)
    frequency_days = serializers.IntegerField(required=False, allow_null=True, default=None)
    preset = serializers.CharField(required=False, allow_blank=True, default="")
    use_case = UseCaseIdField(required=False, allow_null=True, default=None)
    assigned_to = UsernameField(required=False, allow_null=True, default=None)
    first_due = serializers.DateField(required=False, allow_null=True, default=None)


class ReassessmentUpdateSerializer(serializers.Serializer):
    frequency_days = serializers.IntegerField(required=False, allow_null=True)
    preset = serializers.CharField(required=False, allow_blank=True)
    assigned_to = UsernameField(required=False, allow_null=True)
    unassign = serializers.BooleanField(required=False)


class ReassessmentCompleteSerializer(serializers.Serializer):
    evidence_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=500)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    completed_on = serializers.DateField(required=False, allow_null=True, default=None)


class SignificantModificationSerializer(serializers.Serializer):
    use_case = UseCaseIdField()
    description = serializers.CharField()


class ReassessmentViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Reassessment schedules; ``status`` is the due state today (on_track, due, overdue)."""

    serializer_class = ReassessmentScheduleSerializer
    getter = staticmethod(sel.reassessment_get)
    filterset_class = ReassessmentFilter
    search_fields = ["assessment_type", "due_reason_detail"]
    ordering_fields = ["id", "next_due", "created_at"]

    def get_queryset(self):
        return sel.reassessment_list(self.request.user).order_by("next_due", "id")

    def respond(self, schedule, code=status.HTTP_200_OK):
        fresh = sel.reassessment_get(self.request.user, schedule.public_id)
        return Response(ReassessmentScheduleDetailSerializer(fresh).data, status=code)

    def retrieve(self, request, pk=None):
        return self.respond(self.get_object())

    @extend_schema(request=ReassessmentCreateSerializer, responses=ReassessmentScheduleDetailSerializer)
    def create(self, request):
        """Schedule a reassessment (a preset or any positive number of days)."""
        schedule = svc.reassessment_create(actor=request.user, **_valid(ReassessmentCreateSerializer, request))
        return self.respond(schedule, status.HTTP_201_CREATED)

    @extend_schema(request=ReassessmentUpdateSerializer, responses=ReassessmentScheduleDetailSerializer)
    def partial_update(self, request, pk=None):
        """Change the cadence or the assignee."""
        data = _valid(ReassessmentUpdateSerializer, request, partial=True)
        if "assigned_to" in data and data["assigned_to"] is None:
            data["unassign"] = True
        return self.respond(svc.reassessment_update(actor=request.user, schedule=self.get_object(), **data))

    @extend_schema(request=ReassessmentCompleteSerializer, responses=ReassessmentScheduleDetailSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Record a completed reassessment with its evidence; next_due advances on the cadence."""
        data = _valid(ReassessmentCompleteSerializer, request)
        schedule = self.get_object()
        svc.reassessment_complete(actor=request.user, schedule=schedule, **data)
        return self.respond(schedule)

    @extend_schema(request=ReasonSerializer, responses=ReassessmentScheduleDetailSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Stop the schedule (reason required)."""
        data = _valid(ReasonSerializer, request)
        return self.respond(svc.reassessment_deactivate(actor=request.user, schedule=self.get_object(), **data))

    @extend_schema(responses=ReassessmentCompletionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def completions(self, request, pk=None):
        """The completion history: who, when, evidence."""
        rows = sel.reassessment_completions(request.user, self.get_object())
        return Response(ReassessmentCompletionSerializer(rows, many=True).data)

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Change history of the schedule."""
        return self.history_response(self.get_object())

    @extend_schema(request=SignificantModificationSerializer, responses=ReassessmentScheduleSerializer(many=True))
    @action(detail=False, methods=["post"], url_path="significant-modification")
    def significant_modification(self, request):
        """Record a significant modification of a use case: its reassessments become due at once."""
        data = _valid(SignificantModificationSerializer, request)
        changed = svc.reassessment_significant_modification(actor=request.user, **data)
        rows = sel.reassessment_list(request.user).filter(pk__in=[c.pk for c in changed])
        return Response(ReassessmentScheduleSerializer(rows, many=True).data)
