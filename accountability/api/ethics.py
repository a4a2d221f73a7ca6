"""Ethics-review endpoints: GET/POST /ethics-reviews, the board, scores, decision and revision."""

from __future__ import annotations

import django_filters as df
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accountability.exceptions import NotAllowed, NotFound
from accountability.models import AIUseCase, BoardMember, EthicsReview, EthicsReviewVersion, RubricScore
from accountability.permissions import Perm, has_perm
from accountability.selectors import ethics as ethics_sel
from accountability.selectors import workflow as task_sel
from accountability.services import ethics as ethics_svc
from accountability.services import ethics_scores as scores_svc

from .fields import IncidentIdField, StakeholderIdField, UseCaseIdField, UsernameField
from .steps import TaskSerializer
from .views import ScopedViewSet, _valid

# --- output -------------------------------------------------------------------------------------------


def _username(user) -> str | None:
    return user.get_username() if user else None


class BoardMemberSerializer(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()
    stakeholder = serializers.SerializerMethodField()

    class Meta:
        model = BoardMember
        fields = ["user", "discipline", "party", "stakeholder"]
        read_only_fields = fields

    def get_user(self, obj) -> str:
        return obj.user.get_username()

    def get_stakeholder(self, obj) -> str | None:
        return obj.stakeholder.public_id if obj.stakeholder_id else None


class VersionSerializer(serializers.ModelSerializer):
    submitted_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = EthicsReviewVersion
        fields = [
            "version",
            "summary",
            "material_url",
            "submitted_by",
            "opened_at",
            "tallied_at",
            "scored_count",
            "quorum_met",
            "quorum_reasons",
            "aggregate_score",
            "vetoes",
            "recommendation",
            "outcome",
            "findings",
            "recommendations",
            "conditions",
            "decided_by",
            "closed_at",
        ]
        read_only_fields = fields

    def get_submitted_by(self, obj) -> str:
        return obj.submitted_by.get_username()

    def get_decided_by(self, obj) -> str | None:
        return _username(obj.decided_by)


class ScoreSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.version", read_only=True)
    reviewer = serializers.SerializerMethodField()
    discipline = serializers.CharField(source="member.discipline", read_only=True)

    class Meta:
        model = RubricScore
        fields = [
            "version",
            "reviewer",
            "discipline",
            "disposition",
            "scores",
            "weighted_score",
            "comments",
            "conflict_of_interest",
            "conflict_details",
            "created_at",
        ]
        read_only_fields = fields

    def get_reviewer(self, obj) -> str:
        return obj.reviewer.get_username()


class EthicsReviewSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    use_case = serializers.CharField(source="use_case.public_id", read_only=True)
    incident = serializers.CharField(source="incident.public_id", read_only=True, allow_null=True, default=None)
    submitted_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()
    board = BoardMemberSerializer(many=True, read_only=True)

    class Meta:
        model = EthicsReview
        fields = [
            "id",
            "project",
            "use_case",
            "review_type",
            "incident",
            "title",
            "status",
            "version",
            "submitted_by",
            "board",
            "rubric_key",
            "rubric_version",
            "quorum_rule",
            "score_timeout_days",
            "decision",
            "findings",
            "recommendations",
            "conditions",
            "decided_by",
            "started_at",
            "completed_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_submitted_by(self, obj) -> str:
        return obj.submitted_by.get_username()

    def get_decided_by(self, obj) -> str | None:
        return _username(obj.decided_by)


class EthicsReviewDetailSerializer(EthicsReviewSerializer):
    """A review with its rubric, versions and the scores the reader may see."""

    versions = serializers.SerializerMethodField()
    scores = serializers.SerializerMethodField()

    class Meta(EthicsReviewSerializer.Meta):
        fields = [*EthicsReviewSerializer.Meta.fields, "rubric", "versions", "scores"]
        read_only_fields = fields

    def get_versions(self, obj) -> list[dict]:
        return VersionSerializer(ethics_sel.version_list(self.context["request"].user, obj), many=True).data

    def get_scores(self, obj) -> list[dict]:
        return ScoreSerializer(ethics_sel.score_list(self.context["request"].user, obj), many=True).data


# --- input --------------------------------------------------------------------------------------------


class BoardSeatSerializer(serializers.Serializer):
    user = UsernameField()
    discipline = serializers.ChoiceField(choices=BoardMember.Discipline.choices)
    party = serializers.ChoiceField(choices=BoardMember.Party.choices)
    stakeholder = StakeholderIdField(required=False, allow_null=True, default=None)


class EthicsReviewCreateSerializer(serializers.Serializer):
    use_case = UseCaseIdField()
    summary = serializers.CharField(help_text="What the board reviews (version 1).")
    board = BoardSeatSerializer(many=True)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    review_type = serializers.ChoiceField(choices=EthicsReview.ReviewType.choices, default="initial")
    incident = IncidentIdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The triggering incident (incident-triggered reviews only).",
    )
    material_url = serializers.URLField(required=False, allow_blank=True, default="")
    rubric_key = serializers.CharField(required=False, allow_blank=True, default="")
    rubric_version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    quorum_rule = serializers.CharField(required=False, allow_blank=True, default="")
    start = serializers.BooleanField(required=False, default=True, help_text="Start scoring at once.")


class ScoreInputSerializer(serializers.Serializer):
    conflict_of_interest = serializers.ChoiceField(choices=RubricScore.Conflict.choices)
    scores = serializers.DictField(child=serializers.JSONField(), required=False, default=dict)
    comments = serializers.CharField(required=False, allow_blank=True, default="")
    conflict_details = serializers.CharField(required=False, allow_blank=True, default="")


class DecideSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=EthicsReviewVersion.Outcome.choices)
    findings = serializers.CharField()
    recommendations = serializers.CharField(required=False, allow_blank=True, default="")
    conditions = serializers.CharField(required=False, allow_blank=True, default="")


class ReviseSerializer(serializers.Serializer):
    summary = serializers.CharField()
    material_url = serializers.URLField(required=False, allow_blank=True, default="")


class EthicsReviewFilter(df.FilterSet):
    project = df.CharFilter(field_name="project__key")
    use_case = df.CharFilter(method="filter_use_case")

    class Meta:
        model = EthicsReview
        fields = ["project", "status", "review_type", "decision"]

    def filter_use_case(self, qs, name, value):
        try:
            return qs.filter(use_case_id=AIUseCase.pk_from_public_id(value))
        except NotFound:  # a malformed id matches nothing
            return qs.none()


# --- views --------------------------------------------------------------------------------------------


class EthicsReviewViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Ethics reviews by interdisciplinary boards (D319 rubrics)."""

    serializer_class = EthicsReviewSerializer
    getter = staticmethod(ethics_sel.ethics_review_get)
    filterset_class = EthicsReviewFilter
    ordering_fields = ["created_at", "status"]

    def get_queryset(self):
        return ethics_sel.ethics_review_list(self.request.user).prefetch_related("board__user", "board__stakeholder")

    def detail_response(self, review, code=status.HTTP_200_OK):
        return self.out(review, EthicsReviewDetailSerializer, code)

    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_object())

    @extend_schema(request=EthicsReviewCreateSerializer, responses=EthicsReviewDetailSerializer)
    def create(self, request):
        """Create a review of a use case with its board (and start scoring unless ``start`` is false)."""
        data = _valid(EthicsReviewCreateSerializer, request)
        review = ethics_svc.ethics_review_create(actor=request.user, **data)
        return self.detail_response(review, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=EthicsReviewDetailSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start a pending review."""
        return self.detail_response(ethics_svc.ethics_review_start(actor=request.user, review=self.get_object()))

    @extend_schema(request=BoardSeatSerializer, responses=EthicsReviewDetailSerializer)
    @action(detail=True, methods=["post"])
    def members(self, request, pk=None):
        """Add a board member to a pending review."""
        review = self.get_object()
        ethics_svc.ethics_review_add_member(actor=request.user, review=review, **_valid(BoardSeatSerializer, request))
        return self.detail_response(
            ethics_sel.ethics_review_get(request.user, review.public_id), status.HTTP_201_CREATED
        )

    @extend_schema(request=ScoreInputSerializer, responses=ScoreSerializer)
    @action(detail=True, methods=["post"])
    def scores(self, request, pk=None):
        """Submit your score for the current version, or recuse with a declared conflict of interest."""
        data = _valid(ScoreInputSerializer, request)
        score = scores_svc.ethics_score_submit(actor=request.user, review=self.get_object(), **data)
        return Response(ScoreSerializer(score).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecideSerializer, responses=EthicsReviewDetailSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Decide on the tallied version (deciders other than the submitter)."""
        data = _valid(DecideSerializer, request)
        return self.detail_response(
            ethics_svc.ethics_review_decide(actor=request.user, review=self.get_object(), **data)
        )

    @extend_schema(request=ReviseSerializer, responses=EthicsReviewDetailSerializer)
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        """Submit the next version after changes were requested (the submitter)."""
        data = _valid(ReviseSerializer, request)
        return self.detail_response(
            ethics_svc.ethics_review_revise(actor=request.user, review=self.get_object(), **data)
        )

    @extend_schema(responses=TaskSerializer(many=True))
    @action(detail=True, methods=["get"])
    def tasks(self, request, pk=None):
        """The review's workflow steps (readers of the project's reviews)."""
        review = self.get_object()
        if not has_perm(request.user, review.project, Perm.ETHICS_VIEW):
            raise NotAllowed("Your role does not include the review's workflow steps.")
        return Response(TaskSerializer(task_sel.process_tasks(review), many=True).data)

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Change history of the review (auditors, governance staff, CAIO)."""
        return self.history_response(self.get_object())
