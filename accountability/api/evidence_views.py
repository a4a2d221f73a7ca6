"""Evidence endpoints: input serializer -> one service -> output serializer; reads through the selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accountability.exceptions import ValidationFailed
from accountability.selectors import evidence as sel
from accountability.selectors import registry as reg
from accountability.services import evidence_cards as cards
from accountability.services import evidence_feedback as feedback
from accountability.services import evidence_impact as impact
from accountability.services import evidence_measures as measures
from accountability.services import evidence_tracing as tracing
from accountability.services import evidence_waivers as waivers

from . import evidence_filters as f
from . import evidence_serializers as s
from .views import ScopedViewSet, _valid

CREATED = status.HTTP_201_CREATED


class EvidenceViewSet(mixins.ListModelMixin, ScopedViewSet):
    """List (filtered, paginated), retrieve by public id, and the row's change history."""

    lister = None
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return type(self).lister(self.request.user).order_by("id")

    def retrieve(self, request, pk=None):
        return self.out(self.get_object())

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Change history of the record."""
        return self.history_response(self.get_object())

    def call(self, service, input_serializer=None, code=status.HTTP_200_OK, partial=False, **kwargs):
        data = _valid(input_serializer, self.request, partial=partial) if input_serializer else {}
        return self.out(service(actor=self.request.user, **kwargs, **data), code=code)


def _project_param(request):
    key = request.query_params.get("project", "")
    if not key:
        raise ValidationFailed({"project": ["This query parameter is required."]})
    return reg.project_get(request.user, key)


def _use_case_param(request):
    value = request.query_params.get("use_case", "")
    if not value:
        raise ValidationFailed({"use_case": ["This query parameter is required."]})
    return reg.use_case_get(request.user, value)


class ModelCardViewSet(EvidenceViewSet):
    serializer_class = s.ModelCardSerializer
    getter = staticmethod(sel.model_card_get)
    lister = staticmethod(sel.model_card_list)
    filterset_class = f.ModelCardFilter
    search_fields = ["model_name", "model_version", "intended_use"]

    @extend_schema(request=s.ModelCardCreateSerializer, responses=s.ModelCardSerializer)
    def create(self, request):
        return self.call(cards.model_card_create, s.ModelCardCreateSerializer, CREATED)

    @extend_schema(request=s.ModelCardUpdateSerializer, responses=s.ModelCardSerializer)
    def partial_update(self, request, pk=None):
        """Edit a draft version."""
        return self.call(
            cards.model_card_update_draft, s.ModelCardUpdateSerializer, partial=True, card=self.get_object()
        )

    @extend_schema(request=s.ModelCardNewVersionSerializer, responses=s.ModelCardSerializer)
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        """Insert the next version as a draft (published content with the changes applied)."""
        return self.call(cards.model_card_new_version, s.ModelCardNewVersionSerializer, CREATED, card=self.get_object())

    @extend_schema(request=None, responses=s.ModelCardSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish the draft (never by its author); the previously published version is superseded."""
        return self.call(cards.model_card_publish, card=self.get_object())

    @extend_schema(request=s.ReasonSerializer, responses=s.ModelCardSerializer)
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        """Discard the draft."""
        return self.call(cards.model_card_discard, s.ReasonSerializer, card=self.get_object())


class VendorArtefactsViewSet(EvidenceViewSet):
    serializer_class = s.VendorArtefactsSerializer
    getter = staticmethod(sel.vendor_artefacts_get)
    lister = staticmethod(sel.vendor_artefacts_list)
    filterset_class = f.VendorArtefactsFilter
    search_fields = ["vendor_name", "contract_reference"]

    @extend_schema(request=s.VendorArtefactsCreateSerializer, responses=s.VendorArtefactsSerializer)
    def create(self, request):
        """Record what the vendor of a procured LLM supplied (updates the use case's record if it exists)."""
        return self.call(cards.vendor_artefacts_record, s.VendorArtefactsCreateSerializer, CREATED)

    @extend_schema(request=s._VendorFields, responses=s.VendorArtefactsSerializer)
    def partial_update(self, request, pk=None):
        return self.call(
            cards.vendor_artefacts_record, s._VendorFields, partial=True, use_case=self.get_object().use_case
        )

    @extend_schema(request=s.NotesSerializer, responses=s.VendorArtefactsSerializer)
    @action(detail=True, methods=["post"], url_path="review-card")
    def review_card(self, request, pk=None):
        """Record the agency's review of the vendor's model or system card."""
        return self.call(cards.vendor_artefacts_review_card, s.NotesSerializer, artefacts=self.get_object())


class FairnessAssessmentViewSet(EvidenceViewSet):
    serializer_class = s.FairnessAssessmentSerializer
    getter = staticmethod(sel.fairness_assessment_get)
    lister = staticmethod(sel.fairness_assessment_list)
    filterset_class = f.FairnessAssessmentFilter
    search_fields = ["model_name", "method"]
    ordering_fields = ["id", "performed_on", "next_due_on"]

    @extend_schema(request=s.FairnessAssessmentCreateSerializer, responses=s.FairnessAssessmentSerializer)
    def create(self, request):
        return self.call(measures.fairness_assessment_record, s.FairnessAssessmentCreateSerializer, CREATED)

    @extend_schema(request=s.ReasonSerializer, responses=s.FairnessAssessmentSerializer)
    @action(detail=True, methods=["post"])
    def retract(self, request, pk=None):
        """Withdraw an assessment recorded in error."""
        return self.call(measures.fairness_assessment_retract, s.ReasonSerializer, assessment=self.get_object())


class ConfabulationCheckViewSet(EvidenceViewSet):
    serializer_class = s.ConfabulationCheckSerializer
    getter = staticmethod(sel.confabulation_check_get)
    lister = staticmethod(sel.confabulation_check_list)
    filterset_class = f.ConfabulationCheckFilter
    search_fields = ["model_name", "method"]
    ordering_fields = ["id", "checked_on", "error_rate"]

    @extend_schema(request=s.ConfabulationCheckCreateSerializer, responses=s.ConfabulationCheckSerializer)
    def create(self, request):
        return self.call(measures.confabulation_check_record, s.ConfabulationCheckCreateSerializer, CREATED)

    @extend_schema(request=s.ReasonSerializer, responses=s.ConfabulationCheckSerializer)
    @action(detail=True, methods=["post"])
    def retract(self, request, pk=None):
        """Withdraw a check recorded in error."""
        return self.call(measures.confabulation_check_retract, s.ReasonSerializer, check=self.get_object())


class ProvenanceRecordViewSet(EvidenceViewSet):
    serializer_class = s.ProvenanceRecordSerializer
    getter = staticmethod(sel.provenance_record_get)
    lister = staticmethod(sel.provenance_record_list)
    filterset_class = f.ProvenanceRecordFilter
    search_fields = ["trace_id", "output_reference"]
    ordering_fields = ["id", "sequence", "generated_at"]

    @extend_schema(request=s.ProvenanceRecordCreateSerializer, responses=s.ProvenanceRecordSerializer)
    def create(self, request):
        """Append a provenance record to the use case's chain, anchored in the ledger."""
        return self.call(tracing.provenance_record_create, s.ProvenanceRecordCreateSerializer, CREATED)

    @extend_schema(parameters=[OpenApiParameter("use_case", str, required=True)], responses=dict)
    @action(detail=False, methods=["get"])
    def chain(self, request):
        """Verify a use case's chain without storing anything (?use_case=UC-00001)."""
        return Response(sel.provenance_chain_check(request.user, _use_case_param(request)).as_dict())

    @extend_schema(request=s.UseCaseRefSerializer, responses=dict)
    @action(detail=False, methods=["post"])
    def verify(self, request):
        """Re-verify a use case's chain and store each record's outcome."""
        data = _valid(s.UseCaseRefSerializer, request)
        return Response(tracing.provenance_verify_chain(actor=request.user, use_case=data["use_case"]).as_dict())


class ContentTracingPolicyViewSet(EvidenceViewSet):
    serializer_class = s.ContentTracingPolicySerializer
    getter = staticmethod(sel.content_tracing_policy_get)
    lister = staticmethod(sel.content_tracing_policy_list)
    filterset_class = f.ContentTracingPolicyFilter
    search_fields = ["title", "owner_name", "scope"]

    @extend_schema(request=s.ContentTracingPolicyProposeSerializer, responses=s.ContentTracingPolicySerializer)
    def create(self, request):
        """Draft the next version of the project's policy."""
        return self.call(tracing.content_tracing_policy_propose, s.ContentTracingPolicyProposeSerializer, CREATED)

    @extend_schema(request=None, responses=s.ContentTracingPolicySerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the draft (never by its author); the approved version is superseded."""
        return self.call(tracing.content_tracing_policy_approve, policy_version=self.get_object())

    @extend_schema(request=s.ReasonSerializer, responses=s.ContentTracingPolicySerializer)
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        """Discard the draft."""
        return self.call(tracing.content_tracing_policy_discard, s.ReasonSerializer, policy_version=self.get_object())

    @extend_schema(
        parameters=[OpenApiParameter("project", str, required=True)], responses=s.ContentTracingPolicySerializer
    )
    @action(detail=False, methods=["get"])
    def current(self, request):
        """The approved policy whose review date has not passed (?project=proj-101); current is null when none."""
        project = _project_param(request)
        policy = sel.content_tracing_policy_current(request.user, project)
        return Response({"project": project.key, "current": self.get_serializer(policy).data if policy else None})


class MonitoringPlanViewSet(EvidenceViewSet):
    serializer_class = s.MonitoringPlanSerializer
    getter = staticmethod(sel.monitoring_plan_get)
    lister = staticmethod(sel.monitoring_plan_list)
    filterset_class = f.MonitoringPlanFilter
    search_fields = ["name"]
    ordering_fields = ["id", "next_observation_due"]

    @extend_schema(request=s.MonitoringPlanCreateSerializer, responses=s.MonitoringPlanSerializer)
    def create(self, request):
        return self.call(measures.monitoring_plan_create, s.MonitoringPlanCreateSerializer, CREATED)

    @extend_schema(request=s._PlanFields, responses=s.MonitoringPlanSerializer)
    def partial_update(self, request, pk=None):
        return self.call(measures.monitoring_plan_update, s._PlanFields, partial=True, plan=self.get_object())

    @extend_schema(request=s.ReasonSerializer, responses=s.MonitoringPlanSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """Stop monitoring under this plan."""
        return self.call(measures.monitoring_plan_retire, s.ReasonSerializer, plan=self.get_object())

    @extend_schema(
        request=s.MonitoringObservationCreateSerializer, responses=s.MonitoringObservationSerializer(many=True)
    )
    @action(detail=True, methods=["get", "post"])
    def observations(self, request, pk=None):
        """GET the plan's observations; POST one monitoring cycle's values."""
        plan = self.get_object()
        if request.method == "POST":
            data = _valid(s.MonitoringObservationCreateSerializer, request)
            obs = measures.monitoring_observation_record(actor=request.user, plan=plan, **data)
            return Response(s.MonitoringObservationSerializer(obs).data, status=CREATED)
        page = self.paginate_queryset(sel.monitoring_observation_list(request.user, plan=plan))
        return self.get_paginated_response(s.MonitoringObservationSerializer(page, many=True).data)


class MonitoringObservationViewSet(EvidenceViewSet):
    serializer_class = s.MonitoringObservationSerializer
    getter = staticmethod(sel.monitoring_observation_get)
    lister = staticmethod(sel.monitoring_observation_list)
    filterset_class = f.MonitoringObservationFilter
    ordering_fields = ["id", "observed_on"]


class ImpactAssessmentViewSet(EvidenceViewSet):
    serializer_class = s.ImpactAssessmentSerializer
    getter = staticmethod(sel.impact_assessment_get)
    lister = staticmethod(sel.impact_assessment_list)
    filterset_class = f.ImpactAssessmentFilter
    search_fields = ["purpose_and_benefits", "change_summary"]
    ordering_fields = ["id", "version", "risk_score", "next_reassessment_due"]

    @extend_schema(request=s.ImpactAssessmentCreateSerializer, responses=s.ImpactAssessmentSerializer)
    def create(self, request):
        """Draft version 1 of a use case's impact assessment."""
        return self.call(impact.impact_assessment_create, s.ImpactAssessmentCreateSerializer, CREATED)

    @extend_schema(request=s.ImpactAssessmentUpdateSerializer, responses=s.ImpactAssessmentSerializer)
    def partial_update(self, request, pk=None):
        """Edit sections A–E of a draft."""
        return self.call(
            impact.impact_assessment_update,
            s.ImpactAssessmentUpdateSerializer,
            partial=True,
            assessment=self.get_object(),
        )

    @extend_schema(request=s.ScoresSerializer, responses=dict)
    @action(detail=True, methods=["get", "post"])
    def score(self, request, pk=None):
        """GET the weighted risk score with each dimension's contribution; POST {scores: {dimension: 0-100}}
        to score a draft."""
        assessment = self.get_object()
        if request.method == "POST":
            data = _valid(s.ScoresSerializer, request)
            assessment = impact.impact_assessment_score(actor=request.user, assessment=assessment, **data)
        return Response(sel.impact_assessment_score(request.user, assessment))

    @extend_schema(request=None, responses=s.ImpactAssessmentSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit the complete, scored draft for independent review."""
        return self.call(impact.impact_assessment_submit, assessment=self.get_object())

    @extend_schema(request=s.ReviewSerializer, responses=s.ImpactAssessmentSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Record your independent review (section F); you must not be one of the system's developers."""
        return self.call(impact.impact_assessment_review, s.ReviewSerializer, assessment=self.get_object())

    @extend_schema(request=s.AcceptRiskSerializer, responses=s.ImpactAssessmentSerializer)
    @action(detail=True, methods=["post"], url_path="accept-risk")
    def accept_risk(self, request, pk=None):
        """Sign the risk acceptance (section G)."""
        return self.call(impact.impact_assessment_accept_risk, s.AcceptRiskSerializer, assessment=self.get_object())

    @extend_schema(request=s.ReasonSerializer, responses=s.ImpactAssessmentSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def send_back(self, request, pk=None):
        """Return a submitted or reviewed version to draft."""
        return self.call(impact.impact_assessment_return, s.ReasonSerializer, assessment=self.get_object())

    @extend_schema(request=s.ImpactAssessmentNewVersionSerializer, responses=s.ImpactAssessmentSerializer)
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        """Start a reassessment: the next version as a draft."""
        return self.call(
            impact.impact_assessment_new_version,
            s.ImpactAssessmentNewVersionSerializer,
            CREATED,
            assessment=self.get_object(),
        )

    @extend_schema(parameters=[OpenApiParameter("use_case", str, required=True)], responses=dict)
    @action(detail=False, methods=["get"])
    def report(self, request):
        """The impact picture of a use case (?use_case=UC-00001), as ai_impact_assessor prints it."""
        return Response(sel.impact_report(request.user, _use_case_param(request)))


class WaiverViewSet(EvidenceViewSet):
    serializer_class = s.WaiverSerializer
    getter = staticmethod(sel.waiver_get)
    lister = staticmethod(sel.waiver_list)
    filterset_class = f.WaiverFilter
    search_fields = ["determination", "risk_assessment"]
    ordering_fields = ["id", "granted_on", "next_recertification_due"]

    def get_queryset(self):
        return super().get_queryset().distinct()

    @extend_schema(request=s.WaiverIssueSerializer, responses=s.WaiverSerializer)
    def create(self, request):
        """Issue a waiver (only the project's active CAIO)."""
        return self.call(waivers.waiver_issue, s.WaiverIssueSerializer, CREATED)

    @extend_schema(request=s.RecertifySerializer, responses=s.WaiverSerializer)
    @action(detail=True, methods=["post"])
    def recertify(self, request, pk=None):
        """Recertify the waiver for another year (the active CAIO)."""
        return self.call(waivers.waiver_recertify, s.RecertifySerializer, waiver=self.get_object())

    @extend_schema(request=s.RevokeSerializer, responses=s.WaiverSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the waiver (the active CAIO)."""
        return self.call(waivers.waiver_revoke, s.RevokeSerializer, waiver=self.get_object())

    @extend_schema(request=s.OmbReportSerializer, responses=s.WaiverSerializer)
    @action(detail=True, methods=["post"], url_path="omb-report")
    def omb_report(self, request, pk=None):
        """Record the date the grant or revocation was reported to OMB."""
        return self.call(waivers.waiver_record_omb_report, s.OmbReportSerializer, waiver=self.get_object())

    @extend_schema(request=s.PublicSummarySerializer, responses=s.WaiverSerializer)
    @action(detail=True, methods=["post"], url_path="public-summary")
    def public_summary(self, request, pk=None):
        """Record where the public summary is published."""
        return self.call(waivers.waiver_set_public_summary, s.PublicSummarySerializer, waiver=self.get_object())

    def out(self, obj, serializer_class=None, code=status.HTTP_200_OK):
        # Re-read through the selector so the derived status annotations are present.
        return super().out(sel.waiver_get(self.request.user, obj.public_id), serializer_class, code)


class FeedbackChannelViewSet(EvidenceViewSet):
    serializer_class = s.FeedbackChannelSerializer
    getter = staticmethod(sel.feedback_channel_get)
    lister = staticmethod(sel.feedback_channel_list)
    filterset_class = f.FeedbackChannelFilter
    search_fields = ["name", "contact", "url"]

    @extend_schema(request=s.FeedbackChannelCreateSerializer, responses=s.FeedbackChannelSerializer)
    def create(self, request):
        return self.call(feedback.feedback_channel_create, s.FeedbackChannelCreateSerializer, CREATED)

    @extend_schema(request=s.ReasonSerializer, responses=s.FeedbackChannelSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Close the channel."""
        return self.call(feedback.feedback_channel_deactivate, s.ReasonSerializer, channel=self.get_object())


class FeedbackItemViewSet(EvidenceViewSet):
    serializer_class = s.FeedbackItemSerializer
    getter = staticmethod(sel.feedback_item_get)
    lister = staticmethod(sel.feedback_item_list)
    filterset_class = f.FeedbackItemFilter
    search_fields = ["summary", "reference"]
    ordering_fields = ["id", "received_at", "triage_due_at"]

    @extend_schema(request=s.FeedbackItemCreateSerializer, responses=s.FeedbackItemSerializer)
    def create(self, request):
        return self.call(feedback.feedback_item_record, s.FeedbackItemCreateSerializer, CREATED)

    @extend_schema(request=s.TriageSerializer, responses=s.FeedbackItemSerializer)
    @action(detail=True, methods=["post"])
    def triage(self, request, pk=None):
        """Triage the item once (outcome and note)."""
        return self.call(feedback.feedback_item_triage, s.TriageSerializer, item=self.get_object())


class OperatorTrainingViewSet(EvidenceViewSet):
    serializer_class = s.OperatorTrainingSerializer
    getter = staticmethod(sel.operator_training_get)
    lister = staticmethod(sel.operator_training_list)
    filterset_class = f.OperatorTrainingFilter
    search_fields = ["operator_name", "course"]
    ordering_fields = ["id", "completed_on", "expires_on"]

    @extend_schema(request=s.OperatorTrainingCreateSerializer, responses=s.OperatorTrainingSerializer)
    def create(self, request):
        return self.call(measures.operator_training_record, s.OperatorTrainingCreateSerializer, CREATED)


ROUTES = [
    ("model-cards", ModelCardViewSet),
    ("vendor-artefacts", VendorArtefactsViewSet),
    ("fairness-assessments", FairnessAssessmentViewSet),
    ("confabulation-checks", ConfabulationCheckViewSet),
    ("provenance-records", ProvenanceRecordViewSet),
    ("content-tracing-policies", ContentTracingPolicyViewSet),
    ("monitoring-plans", MonitoringPlanViewSet),
    ("monitoring-observations", MonitoringObservationViewSet),
    ("impact-assessments", ImpactAssessmentViewSet),
    ("waivers", WaiverViewSet),
    ("feedback-channels", FeedbackChannelViewSet),
    ("feedback-items", FeedbackItemViewSet),
    ("operator-training", OperatorTrainingViewSet),
]
