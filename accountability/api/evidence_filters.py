"""django-filter sets of the evidence endpoints: every list filters by project key, use case id, a date
range on the evidence's own date (``since``/``until``) and its status."""

from __future__ import annotations

import django_filters as df

from accountability.exceptions import NotFound
from accountability.models import (
    AIUseCase,
    ConfabulationCheck,
    ContentTracingPolicy,
    FairnessAssessment,
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


def _by_public_id(model, field: str):
    def method(self, qs, name, value):
        try:
            return qs.filter(**{field: model.pk_from_public_id(value)})
        except NotFound:  # a malformed id matches nothing
            return qs.none()

    return method


def evidence_filterset(model_, date_field: str | None, fields_: list[str], **extra):
    """A FilterSet with project, use_case, since/until on ``date_field`` and the given exact fields."""
    attrs = {
        "project": df.CharFilter(field_name="project__key", help_text="Project key, e.g. proj-101."),
        "use_case": df.CharFilter(method="filter_use_case", help_text="Use case id, e.g. UC-00001."),
        "filter_use_case": _by_public_id(AIUseCase, "use_case_id"),
        **extra,
    }
    if date_field:
        attrs["since"] = df.DateFilter(field_name=date_field, lookup_expr="gte", help_text=f"{date_field} on or after")
        attrs["until"] = df.DateFilter(field_name=date_field, lookup_expr="lte", help_text=f"{date_field} on or before")
    attrs["Meta"] = type("Meta", (), {"model": model_, "fields": fields_})
    return type(f"{model_.__name__}Filter", (df.FilterSet,), attrs)


ModelCardFilter = evidence_filterset(ModelCard, "published_at__date", ["status", "model_name"])
VendorArtefactsFilter = evidence_filterset(
    VendorArtefacts,
    "updated_at__date",
    ["is_embedded_llm"],
    card_reviewed=df.BooleanFilter(field_name="card_reviewed_at", lookup_expr="isnull", exclude=True),
    min_artefacts=df.NumberFilter(field_name="artefact_count", lookup_expr="gte"),
)
FairnessAssessmentFilter = evidence_filterset(
    FairnessAssessment,
    "performed_on",
    ["status", "overall_result", "model_name", "model_version"],
    due_before=df.DateFilter(field_name="next_due_on", lookup_expr="lt"),
)
ConfabulationCheckFilter = evidence_filterset(ConfabulationCheck, "checked_on", ["status", "result", "model_name"])
ProvenanceRecordFilter = evidence_filterset(
    ProvenanceRecord, "generated_at__date", ["chain_status", "trace_id", "model_name", "model_version"]
)
ContentTracingPolicyFilter = evidence_filterset(
    ContentTracingPolicy, "approved_at__date", ["status", "tracing_enabled"]
)
MonitoringPlanFilter = evidence_filterset(
    MonitoringPlan,
    "starts_on",
    ["status"],
    due_before=df.DateFilter(field_name="next_observation_due", lookup_expr="lt"),
)
MonitoringObservationFilter = evidence_filterset(MonitoringObservation, "observed_on", ["within_threshold"])
ImpactAssessmentFilter = evidence_filterset(
    ImpactAssessment,
    "risk_accepted_at__date",
    ["status", "risk_class", "use_case_stage_at_acceptance"],
    reassessment_due_before=df.DateFilter(field_name="next_reassessment_due", lookup_expr="lt"),
)
WaiverFilter = evidence_filterset(
    Waiver,
    "granted_on",
    ["basis"],
    status=df.ChoiceFilter(choices=Waiver.Status.choices, field_name="current_status"),
    omb_report_overdue=df.BooleanFilter(field_name="omb_report_overdue"),
    practice=df.CharFilter(field_name="practices__practice"),
)
FeedbackChannelFilter = evidence_filterset(FeedbackChannel, "created_at__date", ["method", "audience", "is_active"])
FeedbackItemFilter = evidence_filterset(
    FeedbackItem,
    "received_at__date",
    ["status", "category", "outcome"],
    channel=df.CharFilter(method="filter_channel"),
    filter_channel=_by_public_id(FeedbackChannel, "channel_id"),
)
OperatorTrainingFilter = evidence_filterset(
    OperatorTraining,
    "completed_on",
    ["system_specific"],
    expires_before=df.DateFilter(field_name="expires_on", lookup_expr="lt"),
    operator=df.CharFilter(field_name="operator__username"),
)
