"""Admin pages of the transparency evidence (model cards, vendor artefacts, fairness, confabulation,
provenance, content tracing, monitoring, training). Every write calls a service; evidence rows are
read-only once recorded, and lifecycle steps are buttons on the change page."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.html import format_html

from accountability.models import (
    AIUseCase,
    ConfabulationCheck,
    FairnessAssessment,
    FairnessMetric,
    ModelCard,
    VendorArtefacts,
)
from accountability.permissions import Perm, is_unrestricted, visible_projects
from accountability.rules.evidence import card_completeness
from accountability.services import evidence_cards as cards
from accountability.services import evidence_measures as measures

from .base import ObjectAction, ProjectScopedAdmin, linked


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label="I have reviewed this record", required=True)


class PrettyJSONField(forms.JSONField):
    def prepare_value(self, value):
        return json.dumps(value, indent=2) if isinstance(value, list | dict) else super().prepare_value(value)


def https_urls(field, **kwargs):
    """Model form fields as the admin builds them: URLs without a scheme are https (Django 6 default)."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


def badge(value: str, good: tuple = (), bad: tuple = ()) -> str:
    colour = "#1a7f37" if value in good else "#a00" if value in bad else "#0b3d62"
    return format_html('<b style="color:{}">{}</b>', colour, value)


class EvidenceAdmin(ProjectScopedAdmin):
    """Add through ``add_form`` and the service; a row is editable only while ``editable(obj)`` (then through
    ``change_form``), otherwise it is shown read-only with its lifecycle buttons."""

    edit_perm = Perm.EVIDENCE_EDIT
    add_form: type[forms.ModelForm] | None = None
    change_form: type[forms.ModelForm] | None = None
    detail_fields: list[str] = []
    list_per_page = 50

    def editable(self, obj) -> bool:
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = self.add_form if obj is None else self.change_form if self.editable(obj) else None
        if form is not None:
            kwargs["form"], kwargs["fields"] = form, None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None and self.add_form is not None:
            return list(self.add_form.base_fields)
        if obj is not None and self.editable(obj) and self.change_form is not None:
            return [*self.detail_fields[:3], *self.change_form.base_fields]
        return self.detail_fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if self.editable(obj) and self.change_form is not None:
            return self.detail_fields[:3]
        return self.detail_fields

    def has_add_permission(self, request):
        return self.add_form is not None and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not (self.editable(obj) and self.change_form is not None):
            return False
        return super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is AIUseCase:
            qs = AIUseCase.objects.exclude(stage=AIUseCase.Stage.RETIRED).select_related("project")
            if not is_unrestricted(request.user):
                qs = qs.filter(project__in=visible_projects(request.user, self.edit_perm))
            kwargs["queryset"] = qs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="use case", ordering="use_case_id")
    def use_case_link(self, obj):
        return linked(obj.use_case, obj.use_case.public_id)


def _changed(data: dict, changed: list[str], allowed) -> dict:
    return {k: data[k] for k in changed if k in allowed}


# --- model cards -----------------------------------------------------------------------------------------

CARD_TEXT = [f for f in ModelCard.CONTENT_FIELDS if f != "card_url"]


class ModelCardAddForm(forms.ModelForm):
    class Meta:
        model = ModelCard
        formfield_callback = https_urls
        fields = ["use_case", "model_name", *ModelCard.CONTENT_FIELDS]


class ModelCardDraftForm(forms.ModelForm):
    class Meta:
        model = ModelCard
        formfield_callback = https_urls
        fields = [*ModelCard.CONTENT_FIELDS, "change_summary"]


class NewCardVersionForm(forms.Form):
    change_summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    model_version = forms.CharField(required=False, help_text="Leave empty to keep the current version.")


@admin.register(ModelCard)
class ModelCardAdmin(EvidenceAdmin):
    list_display = [
        "public_id",
        "model_name",
        "model_version",
        "version",
        "status_badge",
        "complete",
        "use_case_link",
        "project_key",
        "published_at",
    ]
    list_filter = ["status", "project"]
    search_fields = ["model_name", "model_version", "use_case__name"]
    list_select_related = ["project", "use_case"]
    add_form, change_form = ModelCardAddForm, ModelCardDraftForm
    detail_fields = [
        "public_id",
        "use_case",
        "model_name",
        "version",
        "status",
        *ModelCard.CONTENT_FIELDS,
        "change_summary",
        "created_by",
        "created_at",
        "published_by",
        "published_at",
        "closed_at",
    ]

    def editable(self, obj):
        return obj.status == ModelCard.Status.DRAFT

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.status, good=("published",), bad=("discarded",))

    @admin.display(description="complete")
    def complete(self, obj):
        return f"{card_completeness(obj)['percent']} %"

    def call_service(self, request, obj, data, changed):
        if obj is None:
            return cards.model_card_create(actor=request.user, **{k: data[k] for k in ModelCardAddForm.Meta.fields})
        return cards.model_card_update_draft(
            actor=request.user, card=obj, **_changed(data, changed, ModelCardDraftForm.Meta.fields)
        )

    def _publish(self, request, obj, data):
        cards.model_card_publish(actor=request.user, card=obj)
        return f"{obj.public_id} published."

    def _new_version(self, request, obj, data):
        changes = {"model_version": data["model_version"]} if data["model_version"] else {}
        new = cards.model_card_new_version(
            actor=request.user, card=obj, change_summary=data["change_summary"], **changes
        )
        return f"{new.public_id} (card v{new.version}) drafted; edit it, then publish."

    def _discard(self, request, obj, data):
        cards.model_card_discard(actor=request.user, card=obj, reason=data["reason"])
        return f"{obj.public_id} discarded."

    object_actions = [
        ObjectAction(
            "publish",
            "Publish",
            _publish,
            ConfirmForm,
            "Publishing supersedes the published version; the author of a version cannot publish it.",
            show_if=lambda r, o: o.status == ModelCard.Status.DRAFT,
        ),
        ObjectAction(
            "new_version",
            "Draft a new version",
            _new_version,
            NewCardVersionForm,
            "Copies this card into a new draft version.",
            show_if=lambda r, o: o.status == ModelCard.Status.PUBLISHED,
        ),
        ObjectAction(
            "discard", "Discard draft", _discard, ReasonForm, show_if=lambda r, o: o.status == ModelCard.Status.DRAFT
        ),
    ]


class VendorArtefactsForm(forms.ModelForm):
    class Meta:
        model = VendorArtefacts
        formfield_callback = https_urls
        fields = [
            "use_case",
            "vendor_name",
            "contract_reference",
            *VendorArtefacts.ARTEFACT_FIELDS,
            "is_embedded_llm",
            "development_info_url",
        ]


class VendorArtefactsChangeForm(VendorArtefactsForm):
    class Meta(VendorArtefactsForm.Meta):
        fields = VendorArtefactsForm.Meta.fields[1:]


class NotesForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(VendorArtefacts)
class VendorArtefactsAdmin(EvidenceAdmin):
    list_display = ["public_id", "vendor_name", "use_case_link", "project_key", "supplied", "card_reviewed_at"]
    list_filter = ["is_embedded_llm", "project"]
    search_fields = ["vendor_name", "contract_reference", "use_case__name"]
    list_select_related = ["project", "use_case"]
    add_form, change_form = VendorArtefactsForm, VendorArtefactsChangeForm
    detail_fields = [
        "public_id",
        "use_case",
        "created_at",
        *VendorArtefactsForm.Meta.fields[1:],
        "card_reviewed_at",
        "card_reviewed_by",
        "card_review_notes",
    ]

    def editable(self, obj):
        return obj.use_case.stage != AIUseCase.Stage.RETIRED

    @admin.display(description="M-26-04 artefacts")
    def supplied(self, obj):
        return f"{obj.artefacts_supplied}/4"

    def call_service(self, request, obj, data, changed):
        if obj is None:
            return cards.vendor_artefacts_record(actor=request.user, **data)
        return cards.vendor_artefacts_record(
            actor=request.user, use_case=obj.use_case, **_changed(data, changed, VendorArtefactsChangeForm.Meta.fields)
        )

    def _review(self, request, obj, data):
        cards.vendor_artefacts_review_card(actor=request.user, artefacts=obj, notes=data["notes"])
        return "Card review recorded."

    object_actions = [
        ObjectAction(
            "review_card",
            "Record card review",
            _review,
            NotesForm,
            "NIST AI 600-1 MG-3.1-005: review the vendor's model or system card.",
            show_if=lambda r, o: bool(o.model_card_url),
        ),
    ]


# --- fairness and confabulation --------------------------------------------------------------------------


class MetricInline(admin.TabularInline):
    model = FairnessMetric
    fields = ["group", "reference_group", "metric", "value", "threshold", "comparison", "within_threshold"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class FairnessAddForm(forms.ModelForm):
    metrics = PrettyJSONField(
        help_text='[{"group": "age 65+", "metric": "demographic_parity_ratio", "value": 0.91, "threshold": 0.8}]'
    )
    overall_result = forms.ChoiceField(
        required=False, choices=[("", "— from the thresholds —"), *FairnessAssessment.Result.choices]
    )
    next_due_on = forms.DateField(required=False, help_text="Default: the policy's freshness period.")

    class Meta:
        model = FairnessAssessment
        formfield_callback = https_urls
        fields = [
            "use_case",
            "model_name",
            "model_version",
            "performed_on",
            "performed_by_name",
            "method",
            "dataset",
            "metrics",
            "overall_result",
            "mitigation",
            "next_due_on",
            "notes",
        ]


class RetractableAdmin(EvidenceAdmin):
    def _retract(self, request, obj, data):
        kind = "assessment" if isinstance(obj, FairnessAssessment) else "check"
        service = measures.fairness_assessment_retract if kind == "assessment" else measures.confabulation_check_retract
        service(actor=request.user, reason=data["reason"], **{kind: obj})
        return f"{obj.public_id} retracted."

    object_actions = [
        ObjectAction(
            "retract",
            "Retract",
            _retract,
            ReasonForm,
            "For a record made in error; it stays readable.",
            show_if=lambda r, o: o.status == "current",
        ),
    ]


@admin.register(FairnessAssessment)
class FairnessAssessmentAdmin(RetractableAdmin):
    list_display = [
        "public_id",
        "model_name",
        "model_version",
        "performed_on",
        "result",
        "breach_count",
        "next_due_on",
        "status",
        "use_case_link",
        "project_key",
    ]
    list_filter = ["overall_result", "status", "project"]
    search_fields = ["model_name", "method", "use_case__name"]
    date_hierarchy = "performed_on"
    list_select_related = ["project", "use_case"]
    inlines = [MetricInline]
    add_form = FairnessAddForm
    detail_fields = [
        "public_id",
        "use_case",
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
        "notes",
        "retracted_at",
        "retracted_by",
        "retraction_reason",
        "created_by",
        "created_at",
    ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description="result", ordering="overall_result")
    def result(self, obj):
        return badge(obj.overall_result, good=("pass",), bad=("fail",))

    def call_service(self, request, obj, data, changed):
        data = {**data, "overall_result": data["overall_result"] or None}
        return measures.fairness_assessment_record(actor=request.user, **data)


class ConfabulationAddForm(forms.ModelForm):
    max_error_rate = forms.DecimalField(required=False, help_text="Default: the policy's limit.")

    class Meta:
        model = ConfabulationCheck
        formfield_callback = https_urls
        fields = [
            "use_case",
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
            "max_error_rate",
            "notes",
        ]


@admin.register(ConfabulationCheck)
class ConfabulationCheckAdmin(RetractableAdmin):
    list_display = [
        "public_id",
        "checked_on",
        "model_name",
        "sample_size",
        "errors_found",
        "error_rate",
        "result_badge",
        "status",
        "use_case_link",
        "project_key",
    ]
    list_filter = ["result", "status", "checks_citations", "checks_sources", "checks_factual_claims", "project"]
    search_fields = ["model_name", "method", "use_case__name"]
    date_hierarchy = "checked_on"
    list_select_related = ["project", "use_case"]
    add_form = ConfabulationAddForm
    detail_fields = [
        "public_id",
        "use_case",
        *ConfabulationAddForm.Meta.fields[1:],
        "error_rate",
        "result",
        "status",
        "retracted_at",
        "retracted_by",
        "retraction_reason",
        "created_by",
        "created_at",
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "use_case":
            field.queryset = field.queryset.filter(is_generative=True)
        return field

    @admin.display(description="result", ordering="result")
    def result_badge(self, obj):
        return badge(obj.result, good=("pass",), bad=("fail",))

    def call_service(self, request, obj, data, changed):
        return measures.confabulation_check_record(actor=request.user, **data)
