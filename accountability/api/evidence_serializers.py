"""Serializers of the transparency evidence: outputs are read-only; inputs only type-check and feed a service,
which owns every rule."""

from __future__ import annotations

from rest_framework import serializers

from accountability.config import policy
from accountability.models import (
    ConfabulationCheck,
    ContentTracingPolicy,
    FairnessAssessment,
    FairnessMetric,
    FeedbackChannel,
    FeedbackItem,
    ImpactAssessment,
    ModelCard,
    MonitoringObservation,
    MonitoringPlan,
    OperatorTraining,
    ProvenanceRecord,
    VendorArtefacts,
    Waiver,
)
from accountability.rules.evidence import card_completeness
from accountability.selectors import evidence as sel

from .fields import ProjectKeyField, ScopedRelatedField, UseCaseIdField, UsernameField
from .serializers import ReasonSerializer  # noqa: F401 - the evidence views share it

BASE = ["id", "project", "use_case"]


def _user():
    return serializers.SlugRelatedField(slug_field="username", read_only=True)


class _Out(serializers.ModelSerializer):
    """Public id, project key and use-case id instead of primary keys; everything read-only."""

    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    use_case = serializers.CharField(source="use_case.public_id", read_only=True)


def _meta(model_, fields_):
    return type("Meta", (), {"model": model_, "fields": fields_, "read_only_fields": fields_})


class FeedbackChannelIdField(ScopedRelatedField):
    selector = staticmethod(sel.feedback_channel_get)
    noun = "feedback channel"


# --- model cards and vendor artefacts ---------------------------------------------------------------------


class ModelCardSerializer(_Out):
    created_by = _user()
    published_by = _user()
    completeness = serializers.SerializerMethodField()
    Meta = _meta(
        ModelCard,
        [
            *BASE,
            "model_name",
            "version",
            "status",
            *ModelCard.CONTENT_FIELDS,
            "change_summary",
            "completeness",
            "created_by",
            "created_at",
            "published_by",
            "published_at",
            "closed_at",
        ],
    )

    def get_completeness(self, obj) -> dict:
        return card_completeness(obj)


class _CardContent(serializers.Serializer):
    model_version = serializers.CharField(max_length=100, required=False)
    model_description = serializers.CharField(required=False, allow_blank=True)
    intended_use = serializers.CharField(required=False, allow_blank=True)
    out_of_scope_uses = serializers.CharField(required=False, allow_blank=True)
    limitations = serializers.CharField(required=False, allow_blank=True)
    training_data = serializers.CharField(required=False, allow_blank=True)
    evaluation = serializers.CharField(required=False, allow_blank=True)
    ethical_considerations = serializers.CharField(required=False, allow_blank=True)
    contact = serializers.CharField(required=False, allow_blank=True)
    card_url = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ModelCardCreateSerializer(_CardContent):
    use_case = UseCaseIdField()
    model_name = serializers.CharField(max_length=200)
    model_version = serializers.CharField(max_length=100)
    change_summary = serializers.CharField(required=False, allow_blank=True, default="")


class ModelCardUpdateSerializer(_CardContent):
    change_summary = serializers.CharField(required=False, allow_blank=True)


class ModelCardNewVersionSerializer(_CardContent):
    change_summary = serializers.CharField()


class VendorArtefactsSerializer(_Out):
    card_reviewed_by = _user()
    artefacts_supplied = serializers.IntegerField(read_only=True)
    Meta = _meta(
        VendorArtefacts,
        [
            *BASE,
            "vendor_name",
            "contract_reference",
            *VendorArtefacts.ARTEFACT_FIELDS,
            "artefacts_supplied",
            "is_embedded_llm",
            "development_info_url",
            "card_reviewed_at",
            "card_reviewed_by",
            "card_review_notes",
            "created_at",
            "updated_at",
        ],
    )


class _VendorFields(serializers.Serializer):
    vendor_name = serializers.CharField(max_length=200, required=False)
    contract_reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    acceptable_use_policy_url = serializers.CharField(required=False, allow_blank=True, max_length=200)
    model_card_url = serializers.CharField(required=False, allow_blank=True, max_length=200)
    end_user_resources_url = serializers.CharField(required=False, allow_blank=True, max_length=200)
    feedback_mechanism_url = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_embedded_llm = serializers.BooleanField(required=False)
    development_info_url = serializers.CharField(required=False, allow_blank=True, max_length=200)


class VendorArtefactsCreateSerializer(_VendorFields):
    use_case = UseCaseIdField()


class NotesSerializer(serializers.Serializer):
    notes = serializers.CharField()


# --- fairness and confabulation -----------------------------------------------------------------------------


class FairnessMetricSerializer(serializers.ModelSerializer):
    Meta = _meta(
        FairnessMetric, ["group", "reference_group", "metric", "value", "threshold", "comparison", "within_threshold"]
    )


class FairnessAssessmentSerializer(_Out):
    metrics = FairnessMetricSerializer(many=True, read_only=True)
    retracted_by = _user()
    created_by = _user()
    ratio_warnings = serializers.SerializerMethodField()
    Meta = _meta(
        FairnessAssessment,
        [
            *BASE,
            "model_name",
            "model_version",
            "performed_on",
            "performed_by_name",
            "method",
            "dataset",
            "overall_result",
            "breach_count",
            "mitigation",
            "next_due_on",
            "status",
            "metrics",
            "ratio_warnings",
            "notes",
            "retracted_at",
            "retracted_by",
            "retraction_reason",
            "created_by",
            "created_at",
        ],
    )

    def get_ratio_warnings(self, obj) -> list[str]:
        """Groups whose ratio metric is below the policy's warning level (four-fifths rule, a warning only)."""
        level = policy()["evidence"]["fairness_ratio_warning"]
        return [
            m.group
            for m in obj.metrics.all()
            if m.metric == FairnessMetric.Metric.DEMOGRAPHIC_PARITY_RATIO and float(m.value) < level
        ]


class FairnessAssessmentCreateSerializer(serializers.Serializer):
    use_case = UseCaseIdField()
    model_name = serializers.CharField(max_length=200)
    model_version = serializers.CharField(max_length=100)
    performed_on = serializers.DateField()
    method = serializers.CharField(max_length=200)
    metrics = serializers.ListField(child=serializers.DictField(), allow_empty=True)
    dataset = serializers.CharField(required=False, allow_blank=True, default="")
    performed_by_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    overall_result = serializers.CharField(required=False, allow_null=True, default=None)
    mitigation = serializers.CharField(required=False, allow_blank=True, default="")
    next_due_on = serializers.DateField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class ConfabulationCheckSerializer(_Out):
    retracted_by = _user()
    created_by = _user()
    Meta = _meta(
        ConfabulationCheck,
        [
            *BASE,
            "model_name",
            "model_version",
            "checked_on",
            "checks_citations",
            "checks_sources",
            "checks_factual_claims",
            "method",
            "sample_size",
            "errors_found",
            "near_misses",
            "error_rate",
            "max_error_rate",
            "result",
            "status",
            "notes",
            "retracted_at",
            "retracted_by",
            "retraction_reason",
            "created_by",
            "created_at",
        ],
    )


class ConfabulationCheckCreateSerializer(serializers.Serializer):
    use_case = UseCaseIdField()
    model_name = serializers.CharField(max_length=200)
    model_version = serializers.CharField(max_length=100)
    checked_on = serializers.DateField()
    method = serializers.CharField()
    sample_size = serializers.IntegerField()
    errors_found = serializers.IntegerField()
    near_misses = serializers.IntegerField(required=False, default=0)
    checks_citations = serializers.BooleanField(required=False, default=False)
    checks_sources = serializers.BooleanField(required=False, default=False)
    checks_factual_claims = serializers.BooleanField(required=False, default=False)
    max_error_rate = serializers.DecimalField(
        max_digits=7, decimal_places=6, required=False, allow_null=True, default=None
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")


# --- provenance and content tracing -------------------------------------------------------------------------


class ProvenanceRecordSerializer(_Out):
    Meta = _meta(
        ProvenanceRecord,
        [
            *BASE,
            "sequence",
            "trace_id",
            "data_sources",
            "model_name",
            "model_version",
            "output_reference",
            "output_hash",
            "generated_at",
            "previous_hash",
            "record_hash",
            "ledger_entry_id",
            "chain_status",
            "chain_problem",
            "chain_checked_at",
            "created_at",
        ],
    )


class ProvenanceRecordCreateSerializer(serializers.Serializer):
    use_case = UseCaseIdField()
    trace_id = serializers.CharField(max_length=64)
    data_sources = serializers.ListField(child=serializers.CharField(max_length=500), allow_empty=True)
    model_name = serializers.CharField(max_length=200)
    model_version = serializers.CharField(max_length=100)
    output_reference = serializers.CharField(max_length=500)
    output_hash = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    generated_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class UseCaseRefSerializer(serializers.Serializer):
    use_case = UseCaseIdField()


class ContentTracingPolicySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    owner = _user()
    created_by = _user()
    approved_by = _user()
    Meta = _meta(
        ContentTracingPolicy,
        [
            "id",
            "project",
            "version",
            "status",
            "title",
            "owner",
            "owner_name",
            "scope",
            "methods",
            "retention_days",
            "review_due_on",
            "tracing_enabled",
            "change_summary",
            "created_by",
            "created_at",
            "approved_by",
            "approved_at",
            "closed_at",
        ],
    )


class ContentTracingPolicyProposeSerializer(serializers.Serializer):
    project = ProjectKeyField()
    title = serializers.CharField(max_length=200, required=False)
    owner = UsernameField(required=False, allow_null=True)
    owner_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    scope = serializers.CharField(required=False, allow_blank=True)
    methods = serializers.CharField(required=False, allow_blank=True)
    retention_days = serializers.IntegerField(required=False, min_value=1)
    review_due_on = serializers.DateField(required=False)
    tracing_enabled = serializers.BooleanField(required=False)
    change_summary = serializers.CharField(required=False, allow_blank=True, default="")


# --- monitoring -----------------------------------------------------------------------------------------------


class MonitoringPlanSerializer(_Out):
    created_by = _user()
    observation_count = serializers.IntegerField(read_only=True, required=False)
    breach_count = serializers.IntegerField(read_only=True, required=False)
    Meta = _meta(
        MonitoringPlan,
        [
            *BASE,
            "name",
            "metrics",
            "frequency_days",
            "monitors_performance",
            "monitors_security",
            "monitors_rights_impacts",
            "human_review",
            "starts_on",
            "last_observed_on",
            "next_observation_due",
            "status",
            "retired_at",
            "retirement_reason",
            "observation_count",
            "breach_count",
            "created_by",
            "created_at",
        ],
    )


class _PlanFields(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    metrics = serializers.ListField(child=serializers.DictField(), required=False)
    frequency_days = serializers.IntegerField(required=False)
    monitors_performance = serializers.BooleanField(required=False)
    monitors_security = serializers.BooleanField(required=False)
    monitors_rights_impacts = serializers.BooleanField(required=False)
    human_review = serializers.CharField(required=False, allow_blank=True)


class MonitoringPlanCreateSerializer(_PlanFields):
    use_case = UseCaseIdField()
    name = serializers.CharField(max_length=200)
    metrics = serializers.ListField(child=serializers.DictField(), allow_empty=True)
    frequency_days = serializers.IntegerField()
    starts_on = serializers.DateField(required=False, allow_null=True, default=None)


class MonitoringObservationSerializer(_Out):
    plan = serializers.CharField(source="plan.public_id", read_only=True)
    created_by = _user()
    Meta = _meta(
        MonitoringObservation,
        [
            *BASE,
            "plan",
            "observed_on",
            "metric_values",
            "results",
            "within_threshold",
            "breach_count",
            "corrective_action",
            "human_reviewed",
            "notes",
            "created_by",
            "created_at",
        ],
    )


class MonitoringObservationCreateSerializer(serializers.Serializer):
    observed_on = serializers.DateField()
    metric_values = serializers.DictField()
    corrective_action = serializers.CharField(required=False, allow_blank=True, default="")
    human_reviewed = serializers.BooleanField(required=False, default=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


# --- impact assessments and waivers -------------------------------------------------------------------------


class ImpactAssessmentSerializer(_Out):
    developers = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    reviewer = _user()
    risk_accepted_by = _user()
    created_by = _user()
    submitted_by = _user()
    scores = serializers.SerializerMethodField()
    Meta = _meta(
        ImpactAssessment,
        [
            *BASE,
            "version",
            "status",
            "change_summary",
            *ImpactAssessment.CONTENT_FIELDS,
            "developers",
            "reviewer",
            "reviewer_name",
            "reviewer_office",
            "reviewed_at",
            "review_comments",
            "review_recommendation",
            "risk_accepted_by",
            "risk_acceptor_name",
            "risk_acceptor_title",
            "risk_accepted_at",
            "risk_acceptance_statement",
            "use_case_stage_at_acceptance",
            "next_reassessment_due",
            "scores",
            "risk_score",
            "risk_class",
            "score_parameters",
            "scored_at",
            "submitted_by",
            "submitted_at",
            "superseded_at",
            "created_by",
            "created_at",
        ],
    )

    def get_scores(self, obj) -> dict:
        return {name: getattr(obj, field) for name, field in ImpactAssessment.SCORE_FIELDS.items()}


class _ImpactContent(serializers.Serializer):
    purpose_and_benefits = serializers.CharField(required=False, allow_blank=True)
    benefit_metrics = serializers.ListField(child=serializers.DictField(), required=False)
    data_quality = serializers.CharField(required=False, allow_blank=True)
    protected_class_data = serializers.CharField(required=False, allow_blank=True)
    rights_impacts = serializers.CharField(required=False, allow_blank=True)
    mitigations = serializers.CharField(required=False, allow_blank=True)
    pia_url = serializers.CharField(required=False, allow_blank=True, max_length=200)
    reassessment_frequency_days = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    reassessment_procedures = serializers.CharField(required=False, allow_blank=True)
    costs = serializers.CharField(required=False, allow_blank=True)
    estimated_annual_cost = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)


class ImpactAssessmentCreateSerializer(_ImpactContent):
    use_case = UseCaseIdField()
    developers = serializers.ListField(child=UsernameField(), required=False, default=list)
    change_summary = serializers.CharField(required=False, allow_blank=True, default="")


class ImpactAssessmentUpdateSerializer(_ImpactContent):
    developers = serializers.ListField(child=UsernameField(), required=False)


class ImpactAssessmentNewVersionSerializer(_ImpactContent):
    change_summary = serializers.CharField()


class ScoresSerializer(serializers.Serializer):
    scores = serializers.DictField()


class ReviewSerializer(serializers.Serializer):
    comments = serializers.CharField()
    recommendation = serializers.ChoiceField(choices=ImpactAssessment.Recommendation.choices)
    reviewer_office = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class AcceptRiskSerializer(serializers.Serializer):
    statement = serializers.CharField()
    acceptor_title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class WaiverSerializer(_Out):
    status = serializers.SerializerMethodField()
    omb_report_overdue = serializers.SerializerMethodField()
    practices = serializers.SerializerMethodField()
    caio_designation = serializers.CharField(source="caio_designation.public_id", read_only=True)
    issued_by = _user()
    revoked_by = _user()
    Meta = _meta(
        Waiver,
        [
            *BASE,
            "status",
            "practices",
            "basis",
            "determination",
            "risk_assessment",
            "caio_designation",
            "issued_by",
            "granted_on",
            "recertified_on",
            "recertification_note",
            "next_recertification_due",
            "grant_omb_report_due",
            "grant_reported_to_omb_on",
            "revoked_on",
            "revoked_by",
            "revocation_reason",
            "revocation_omb_report_due",
            "revocation_reported_to_omb_on",
            "omb_report_overdue",
            "public_summary_url",
            "created_at",
        ],
    )

    def get_status(self, obj) -> str:
        return getattr(obj, "current_status", None) or obj.status

    def get_omb_report_overdue(self, obj) -> bool:
        value = getattr(obj, "omb_report_overdue", None)
        return obj.omb_report_overdue_on() if value is None else bool(value)

    def get_practices(self, obj) -> list[str]:
        return sorted(p.practice for p in obj.practices.all())


class WaiverIssueSerializer(serializers.Serializer):
    use_case = UseCaseIdField()
    practices = serializers.ListField(child=serializers.CharField(), allow_empty=True)
    basis = serializers.CharField()
    determination = serializers.CharField(allow_blank=True)
    risk_assessment = serializers.CharField(allow_blank=True)
    granted_on = serializers.DateField(required=False, allow_null=True, default=None)
    public_summary_url = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class RecertifySerializer(serializers.Serializer):
    note = serializers.CharField()
    recertified_on = serializers.DateField(required=False, allow_null=True, default=None)


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField()
    revoked_on = serializers.DateField(required=False, allow_null=True, default=None)


class OmbReportSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=["grant", "revocation"])
    reported_on = serializers.DateField()


class PublicSummarySerializer(serializers.Serializer):
    url = serializers.CharField(max_length=200)


# --- feedback and training ------------------------------------------------------------------------------------


class FeedbackChannelSerializer(_Out):
    item_count = serializers.IntegerField(read_only=True, required=False)
    open_item_count = serializers.IntegerField(read_only=True, required=False)
    Meta = _meta(
        FeedbackChannel,
        [
            *BASE,
            "name",
            "method",
            "audience",
            "url",
            "contact",
            "description",
            "is_active",
            "deactivated_at",
            "deactivation_reason",
            "item_count",
            "open_item_count",
            "created_at",
        ],
    )


class FeedbackChannelCreateSerializer(serializers.Serializer):
    use_case = UseCaseIdField()
    name = serializers.CharField(max_length=200)
    method = serializers.CharField()
    audience = serializers.CharField(required=False, default=FeedbackChannel.Audience.PUBLIC)
    url = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    contact = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class FeedbackItemSerializer(_Out):
    channel = serializers.CharField(source="channel.public_id", read_only=True)
    triaged_by = _user()
    Meta = _meta(
        FeedbackItem,
        [
            *BASE,
            "channel",
            "received_at",
            "category",
            "summary",
            "reference",
            "triage_due_at",
            "status",
            "triaged_at",
            "triaged_by",
            "outcome",
            "outcome_note",
            "created_at",
        ],
    )


class FeedbackItemCreateSerializer(serializers.Serializer):
    channel = FeedbackChannelIdField()
    category = serializers.CharField()
    summary = serializers.CharField()
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class TriageSerializer(serializers.Serializer):
    outcome = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class OperatorTrainingSerializer(_Out):
    operator = _user()
    created_by = _user()
    Meta = _meta(
        OperatorTraining,
        [
            *BASE,
            "operator",
            "operator_name",
            "course",
            "provider",
            "system_specific",
            "assessment_passed",
            "completed_on",
            "expires_on",
            "certificate_url",
            "created_by",
            "created_at",
        ],
    )


class OperatorTrainingCreateSerializer(serializers.Serializer):
    use_case = UseCaseIdField()
    course = serializers.CharField(max_length=200)
    completed_on = serializers.DateField()
    operator = UsernameField(required=False, allow_null=True, default=None)
    operator_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    provider = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    system_specific = serializers.BooleanField(required=False, default=True)
    assessment_passed = serializers.BooleanField(required=False, allow_null=True, default=None)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    certificate_url = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
