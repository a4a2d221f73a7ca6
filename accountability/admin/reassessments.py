"""Admin pages of reassessment schedules: due and overdue filters, completion history, and buttons to
complete, record a significant modification or stop a schedule. Every write calls a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.html import format_html

from accountability.models import AIUseCase, ReassessmentCompletion, ReassessmentSchedule
from accountability.permissions import Perm, is_unrestricted, visible_projects
from accountability.rules.reassessments import assessment_types, due_soon_days, frequency_label
from accountability.services import reassessments as svc

from .base import ObjectAction, ProjectScopedAdmin, linked
from .incident_forms import ReasonForm
from .incident_inlines import ReadOnlyInline

Status = ReassessmentSchedule.Status
COLOURS = {Status.OVERDUE: "#b00020", Status.DUE: "#b35900", Status.ON_TRACK: "#1a7f37"}


class DueStateFilter(admin.SimpleListFilter):
    title = "due state (today)"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        return queryset.filter(live_status=self.value()) if self.value() in Status.values else queryset


class CompletionInline(ReadOnlyInline):
    model = ReassessmentCompletion
    verbose_name_plural = "completion history"
    fields = ["completed_on", "completed_by_name", "evidence", "due_on", "was_overdue", "next_due", "ledger_entry_id"]
    readonly_fields = fields

    @admin.display(description="evidence")
    def evidence(self, obj):
        return format_html('<a href="{}" rel="noopener">{}</a>', obj.evidence_url, "link") if obj.evidence_url else "—"


class ScheduleForm(forms.ModelForm):
    assessment_type = forms.ChoiceField(choices=[])
    anchor_date = forms.DateField(
        label="first due", required=False, help_text="Default: one cadence from today. The cadence counts from it."
    )

    class Meta:
        model = ReassessmentSchedule
        fields = ["project", "use_case", "assessment_type", "frequency_days", "anchor_date", "assigned_to"]
        help_texts = {"frequency_days": "Presets: quarterly 90, semi-annual 182, annual 365, biennial 730."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "assessment_type" in self.fields:  # read-only once the schedule exists
            self.fields["assessment_type"].choices = [(t, t.replace("_", " ")) for t in assessment_types()]


class CompleteForm(forms.Form):
    evidence_url = forms.URLField(required=False, max_length=500, assume_scheme="https")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    completed_on = forms.DateField(help_text="YYYY-MM-DD")


class ModificationForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="What changed?")


@admin.register(ReassessmentSchedule)
class ReassessmentScheduleAdmin(ProjectScopedAdmin):
    form = ScheduleForm
    edit_perm = Perm.REASSESSMENT_MANAGE
    list_display = [
        "public_id",
        "assessment_type",
        "target",
        "project_key",
        "cadence",
        "next_due",
        "due_state",
        "assigned_to",
        "last_completed_at",
        "is_active",
    ]
    list_filter = [DueStateFilter, "is_active", "assessment_type", "due_reason", "project"]
    search_fields = ["assessment_type", "due_reason_detail"]
    list_select_related = ["project", "use_case", "assigned_to"]
    inlines = [CompletionInline]
    STATE = [
        "public_id",
        "due_state",
        "next_due",
        "anchor_date",
        "due_reason",
        "due_reason_detail",
        "last_completed_at",
        "last_completed_by",
        "escalated_at",
        "is_active",
        "deactivated_reason",
    ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # nothing to show (or post) before the row exists

    def get_queryset(self, request):
        return super().get_queryset(request).with_live_status(timezone.localdate(), due_soon_days())

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["project", "use_case", "assessment_type", "frequency_days", "anchor_date", "assigned_to"]
        return ["project", "use_case", "assessment_type", "frequency_days", "assigned_to", *self.STATE]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fixed = ["project", "use_case", "assessment_type", *self.STATE]
        return fixed if obj.is_active else [*fixed, "frequency_days", "assigned_to"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not is_unrestricted(request.user):
            projects = visible_projects(request.user, self.edit_perm)
            if db_field.name == "use_case":
                kwargs["queryset"] = AIUseCase.objects.filter(project__in=projects).exclude(stage="retired")
            elif db_field.name == "assigned_to":
                kwargs["queryset"] = get_user_model().objects.filter(icdev_memberships__project__in=projects).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def call_service(self, request, obj, data, changed):
        if obj is None:
            return svc.reassessment_create(
                actor=request.user,
                project=data["project"],
                use_case=data.get("use_case"),
                assessment_type=data["assessment_type"],
                frequency_days=data.get("frequency_days"),
                assigned_to=data.get("assigned_to"),
                first_due=data.get("anchor_date"),
            )
        kwargs = {}
        if "frequency_days" in changed:
            kwargs["frequency_days"] = data["frequency_days"]
        if "assigned_to" in changed:
            kwargs["assigned_to"] = data["assigned_to"]
            kwargs["unassign"] = data["assigned_to"] is None
        return svc.reassessment_update(actor=request.user, schedule=obj, **kwargs) if kwargs else obj

    @admin.display(description="use case")
    def target(self, obj):
        return linked(obj.use_case, obj.use_case.public_id) if obj.use_case_id else "project-wide"

    @admin.display(description="cadence", ordering="frequency_days")
    def cadence(self, obj):
        return frequency_label(obj.frequency_days)

    @admin.display(description="due state", ordering="next_due")
    def due_state(self, obj):
        state = getattr(obj, "live_status", obj.status)
        return format_html('<b style="color:{}">{}</b>', COLOURS[state], Status(state).label)

    def _complete(self, request, obj, data):
        done = svc.reassessment_complete(actor=request.user, schedule=obj, **data)
        return f"{obj.public_id} completed; next due {done.next_due}."

    def _modified(self, request, obj, data):
        changed = svc.reassessment_significant_modification(
            actor=request.user, use_case=obj.use_case, description=data["description"]
        )
        return f"{len(changed)} reassessment(s) of {obj.use_case.public_id} are due now."

    def _deactivate(self, request, obj, data):
        svc.reassessment_deactivate(actor=request.user, schedule=obj, reason=data["reason"])
        return f"{obj.public_id} stopped."

    object_actions = [
        ObjectAction(
            "complete",
            "Mark complete",
            _complete,
            CompleteForm,
            "The next due date moves by whole cadence steps from the anchor, so a late completion does not "
            "shift the calendar.",
            show_if=lambda r, o: o.is_active,
            initial=lambda r, o: {"completed_on": timezone.localdate()},
        ),
        ObjectAction(
            "modified",
            "Significant modification",
            _modified,
            ModificationForm,
            "Every reassessment of the use case becomes due today.",
            show_if=lambda r, o: o.is_active and o.use_case_id is not None,
        ),
        ObjectAction("deactivate", "Stop schedule", _deactivate, ReasonForm, show_if=lambda r, o: o.is_active),
    ]
