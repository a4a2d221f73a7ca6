"""Admin pages of provenance records, the content-tracing policy, monitoring and operator training.
Every write calls a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from accountability.models import (
    ContentTracingPolicy,
    MonitoringObservation,
    MonitoringPlan,
    OperatorTraining,
    ProvenanceRecord,
)
from accountability.services import evidence_measures as measures
from accountability.services import evidence_tracing as tracing

from .base import ObjectAction, linked
from .evidence import ConfirmForm, EvidenceAdmin, PrettyJSONField, ReasonForm, _changed, badge, https_urls

# --- provenance and content tracing ------------------------------------------------------------------------


@admin.register(ProvenanceRecord)
class ProvenanceRecordAdmin(EvidenceAdmin):
    """Records arrive through the API from the systems that produce outputs; the admin reads and verifies."""

    list_display = [
        "public_id",
        "trace_id",
        "sequence",
        "model_name",
        "model_version",
        "generated_at",
        "chain",
        "use_case_link",
        "project_key",
    ]
    list_filter = ["chain_status", "project"]
    search_fields = ["trace_id", "output_reference", "ledger_entry_id"]
    date_hierarchy = "generated_at"
    list_select_related = ["project", "use_case"]
    detail_fields = [
        "public_id",
        "use_case",
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
    ]

    @admin.display(description="chain", ordering="chain_status")
    def chain(self, obj):
        return badge(obj.chain_status, good=("verified",), bad=("broken",))

    def _verify(self, request, obj, data):
        report = tracing.provenance_verify_chain(actor=request.user, use_case=obj.use_case)
        return f"{report.verified}/{report.total} records of {obj.use_case.public_id} verifiable."

    object_actions = [
        ObjectAction(
            "verify",
            "Verify the use case's chain",
            _verify,
            ConfirmForm,
            "Recomputes every record's hash, its link to the previous record and its ledger anchor.",
        ),
    ]


class PolicyForm(forms.ModelForm):
    change_summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = ContentTracingPolicy
        formfield_callback = https_urls
        fields = ["project", *ContentTracingPolicy.CONTENT_FIELDS, "change_summary"]


@admin.register(ContentTracingPolicy)
class ContentTracingPolicyAdmin(EvidenceAdmin):
    list_display = [
        "public_id",
        "title",
        "version",
        "status_badge",
        "owner_name",
        "retention_days",
        "review_due_on",
        "tracing_enabled",
        "project_key",
        "approved_at",
    ]
    list_filter = ["status", "tracing_enabled", "project"]
    search_fields = ["title", "owner_name", "scope"]
    list_select_related = ["project"]
    add_form = PolicyForm
    detail_fields = [
        "public_id",
        "project",
        "version",
        "status",
        *ContentTracingPolicy.CONTENT_FIELDS,
        "change_summary",
        "created_by",
        "created_at",
        "approved_by",
        "approved_at",
        "closed_at",
    ]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.status, good=("approved",), bad=("discarded",))

    def call_service(self, request, obj, data, changed):
        data = {k: v for k, v in data.items() if v is not None or k == "owner"}
        return tracing.content_tracing_policy_propose(actor=request.user, **data)

    def _approve(self, request, obj, data):
        tracing.content_tracing_policy_approve(actor=request.user, policy_version=obj)
        return f"{obj.public_id} approved."

    def _discard(self, request, obj, data):
        tracing.content_tracing_policy_discard(actor=request.user, policy_version=obj, reason=data["reason"])
        return f"{obj.public_id} discarded."

    object_actions = [
        ObjectAction(
            "approve",
            "Approve",
            _approve,
            ConfirmForm,
            "Approval supersedes the approved version; the author cannot approve.",
            show_if=lambda r, o: o.status == ContentTracingPolicy.Status.DRAFT,
        ),
        ObjectAction(
            "discard",
            "Discard draft",
            _discard,
            ReasonForm,
            show_if=lambda r, o: o.status == ContentTracingPolicy.Status.DRAFT,
        ),
    ]


# --- monitoring and training ---------------------------------------------------------------------------------


class ObservationInline(admin.TabularInline):
    model = MonitoringObservation
    fields = ["observation", "observed_on", "within_threshold", "breach_count", "corrective_action", "human_reviewed"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-observed_on"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="observation")
    def observation(self, obj):
        return linked(obj, obj.public_id)


class MonitoringPlanForm(forms.ModelForm):
    metrics = PrettyJSONField(help_text='[{"name": "accuracy", "threshold": 0.85, "comparison": "at_least"}]')
    starts_on = forms.DateField(required=False, help_text="Default: today.")

    class Meta:
        model = MonitoringPlan
        formfield_callback = https_urls
        fields = [
            "use_case",
            "name",
            "metrics",
            "frequency_days",
            "starts_on",
            "monitors_performance",
            "monitors_security",
            "monitors_rights_impacts",
            "human_review",
        ]


class MonitoringPlanChangeForm(forms.ModelForm):
    metrics = PrettyJSONField()

    class Meta:
        model = MonitoringPlan
        formfield_callback = https_urls
        fields = [
            "name",
            "metrics",
            "frequency_days",
            "monitors_performance",
            "monitors_security",
            "monitors_rights_impacts",
            "human_review",
        ]


class ObservationForm(forms.Form):
    observed_on = forms.DateField(help_text="YYYY-MM-DD")
    metric_values = PrettyJSONField(help_text='{"accuracy": 0.88}')
    corrective_action = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when a value is outside its threshold.",
    )
    human_reviewed = forms.BooleanField(required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


@admin.register(MonitoringPlan)
class MonitoringPlanAdmin(EvidenceAdmin):
    list_display = [
        "public_id",
        "name",
        "frequency_days",
        "last_observed_on",
        "next_due",
        "status",
        "use_case_link",
        "project_key",
    ]
    list_filter = ["status", "monitors_security", "monitors_rights_impacts", "project"]
    search_fields = ["name", "use_case__name"]
    list_select_related = ["project", "use_case"]
    inlines = [ObservationInline]
    add_form, change_form = MonitoringPlanForm, MonitoringPlanChangeForm
    detail_fields = [
        "public_id",
        "use_case",
        "status",
        *MonitoringPlanChangeForm.Meta.fields,
        "starts_on",
        "last_observed_on",
        "next_observation_due",
        "retired_at",
        "retirement_reason",
        "created_at",
    ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def editable(self, obj):
        return obj.status == MonitoringPlan.Status.ACTIVE

    @admin.display(description="next due", ordering="next_observation_due")
    def next_due(self, obj):
        return obj.next_observation_due

    def call_service(self, request, obj, data, changed):
        if obj is None:
            return measures.monitoring_plan_create(actor=request.user, **data)
        return measures.monitoring_plan_update(
            actor=request.user, plan=obj, **_changed(data, changed, MonitoringPlanChangeForm.Meta.fields)
        )

    def _observe(self, request, obj, data):
        obs = measures.monitoring_observation_record(actor=request.user, plan=obj, **data)
        return f"{obs.public_id} recorded" + ("." if obs.within_threshold else f" with {obs.breach_count} breach(es).")

    def _retire(self, request, obj, data):
        measures.monitoring_plan_retire(actor=request.user, plan=obj, reason=data["reason"])
        return f"{obj.public_id} retired."

    object_actions = [
        ObjectAction(
            "observe",
            "Record an observation",
            _observe,
            ObservationForm,
            show_if=lambda r, o: o.status == MonitoringPlan.Status.ACTIVE,
        ),
        ObjectAction(
            "retire", "Retire plan", _retire, ReasonForm, show_if=lambda r, o: o.status == MonitoringPlan.Status.ACTIVE
        ),
    ]


@admin.register(MonitoringObservation)
class MonitoringObservationAdmin(EvidenceAdmin):
    list_display = [
        "public_id",
        "observed_on",
        "plan_link",
        "within_threshold",
        "breach_count",
        "use_case_link",
        "project_key",
    ]
    list_filter = ["within_threshold", "human_reviewed", "project"]
    date_hierarchy = "observed_on"
    list_select_related = ["project", "use_case", "plan"]
    detail_fields = [
        "public_id",
        "plan",
        "use_case",
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
    ]

    @admin.display(description="plan")
    def plan_link(self, obj):
        return linked(obj.plan, obj.plan.public_id)


class TrainingForm(forms.ModelForm):
    expires_on = forms.DateField(required=False, help_text="Default: the policy's validity period.")

    class Meta:
        model = OperatorTraining
        formfield_callback = https_urls
        fields = [
            "use_case",
            "operator",
            "operator_name",
            "course",
            "provider",
            "system_specific",
            "assessment_passed",
            "completed_on",
            "expires_on",
            "certificate_url",
        ]


@admin.register(OperatorTraining)
class OperatorTrainingAdmin(EvidenceAdmin):
    list_display = [
        "public_id",
        "operator_name",
        "course",
        "completed_on",
        "expires_on",
        "system_specific",
        "use_case_link",
        "project_key",
    ]
    list_filter = ["system_specific", "assessment_passed", "project"]
    search_fields = ["operator_name", "course", "operator__username"]
    date_hierarchy = "completed_on"
    list_select_related = ["project", "use_case"]
    add_form = TrainingForm
    detail_fields = ["public_id", "use_case", *TrainingForm.Meta.fields[1:], "created_by", "created_at"]

    def call_service(self, request, obj, data, changed):
        return measures.operator_training_record(actor=request.user, **data)
