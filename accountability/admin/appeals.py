"""Appeals in the admin: the case file with its process state and task history, and buttons that call
the appeal services (assign a reviewer, decide, escalate, withdraw or add information for an outside
appellant). Status is never edited directly."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.html import format_html, format_html_join

from accountability.models import AIUseCase, Appeal
from accountability.permissions import Perm, has_perm, visible_projects
from accountability.selectors import appeals as appeal_sel
from accountability.services import appeals as appeal_svc

from .base import ObjectAction, ProjectScopedAdmin
from .workflow import process_summary

Status = Appeal.Status


class AssignForm(forms.Form):
    reviewer = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    decided_by = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        help_text="People who took or approved the contested decision (they can never review it).",
    )

    def __init__(self, *args, candidates=(), members=None, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        self.fields["reviewer"].queryset = User.objects.filter(pk__in=[u.pk for u in candidates])
        self.fields["decided_by"].queryset = members if members is not None else User.objects.none()


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(choices=[(o.value, o.label) for o in appeal_svc.DECISION_OUTCOMES])
    resolution = forms.CharField(widget=forms.Textarea, help_text="The decision and its reasons, for the appellant.")


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea)


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, required=False)


class InformationForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea, help_text="What the appellant told you.")


class AppealCreateForm(forms.ModelForm):
    class Meta:
        model = Appeal
        fields = [
            "project",
            "use_case",
            "decision_trace_id",
            "appellant",
            "appellant_name",
            "appellant_email",
            "appellant_phone",
            "appellant_postal_address",
            "reason",
        ]


class BreachFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("assignment", "Assignment deadline missed"), ("decision", "Decision deadline missed")]

    def queryset(self, request, queryset):
        if self.value() == "assignment":
            return queryset.filter(assignment_breached_at__isnull=False)
        if self.value() == "decision":
            return queryset.filter(decision_breached_at__isnull=False)
        return queryset


def _for_outside_appellant(request, appeal) -> bool:
    return (
        appeal.is_open
        and appeal.appellant_id is None
        and has_perm(request.user, appeal.project, Perm.APPEAL_COORDINATE)
    )


@admin.register(Appeal)
class AppealAdmin(ProjectScopedAdmin):
    list_display = [
        "public_id",
        "project_key",
        "status",
        "appellant_label",
        "reviewer",
        "assignment_due_at",
        "sla",
        "outcome",
        "created_at",
    ]
    list_filter = ["status", "outcome", BreachFilter, "project"]
    search_fields = ["decision_trace_id", "appellant_name", "appellant_email", "appellant__username"]
    list_select_related = ["project", "appellant", "reviewer"]
    view_perm = Perm.APPEAL_VIEW
    edit_perm = Perm.APPEAL_COORDINATE
    ordering = ["-created_at"]
    readonly_fields = [
        "public_id",
        "project",
        "use_case",
        "decision_trace_id",
        "decision_entry_id",
        "decision_takers_list",
        "appellant",
        "appellant_name",
        "appellant_email",
        "appellant_phone",
        "appellant_postal_address",
        "reason",
        "notes_list",
        "status",
        "reviewer",
        "assigned_by",
        "assigned_at",
        "escalated_to",
        "escalated_to_label",
        "escalated_at",
        "escalation_reason",
        "outcome",
        "resolution",
        "resolved_at",
        "resolved_by",
        "created_at",
        "assignment_due_at",
        "decision_due_at",
        "assignment_breached_at",
        "sla_notified_at",
        "decision_breached_at",
        "process_state",
    ]
    fieldsets = [
        (None, {"fields": ["public_id", "project", "use_case", "status", "outcome", "resolution", "resolved_at"]}),
        ("Contested decision", {"fields": ["decision_trace_id", "decision_entry_id", "decision_takers_list"]}),
        (
            "Appellant",
            {
                "fields": [
                    "appellant",
                    "appellant_name",
                    "appellant_email",
                    "appellant_phone",
                    "appellant_postal_address",
                    "reason",
                    "notes_list",
                ]
            },
        ),
        (
            "Review",
            {
                "fields": [
                    "reviewer",
                    "assigned_by",
                    "assigned_at",
                    "escalated_to",
                    "escalated_to_label",
                    "escalated_at",
                    "escalation_reason",
                    "resolved_by",
                ]
            },
        ),
        (
            "Deadlines",
            {
                "fields": [
                    "created_at",
                    "assignment_due_at",
                    "assignment_breached_at",
                    "sla_notified_at",
                    "decision_due_at",
                    "decision_breached_at",
                ]
            },
        ),
        ("Process and task history", {"fields": ["process_state"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AppealCreateForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": AppealCreateForm.Meta.fields})]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        projects = visible_projects(request.user, Perm.APPEAL_COORDINATE)
        if db_field.name == "use_case":
            kwargs["queryset"] = AIUseCase.objects.filter(project__in=projects)
        elif db_field.name == "appellant":
            kwargs["queryset"] = (
                get_user_model().objects.filter(icdev_memberships__project__in=projects, is_active=True).distinct()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="SLA")
    def sla(self, obj):
        if obj.assignment_breached_at:
            return format_html('<b style="color:#a00">{}</b>', "assignment missed")
        if obj.decision_breached_at:
            return format_html('<b style="color:#a00">{}</b>', "decision overdue")
        return "ok"

    @admin.display(description="appellant")
    def appellant_label(self, obj):
        return obj.appellant_label

    @admin.display(description="decision takers")
    def decision_takers_list(self, obj):
        return ", ".join(u.get_username() for u in obj.decision_takers.all()) or "—"

    @admin.display(description="information added")
    def notes_list(self, obj):
        notes = obj.notes.all()
        if not notes:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{} · {}: {}</li>", ((f"{n.created_at:%Y-%m-%d}", n.author_label, n.body) for n in notes)
            ),
        )

    @admin.display(description="process")
    def process_state(self, obj):
        return process_summary(obj)

    def call_service(self, request, obj, data, changed):
        if obj is not None:
            return obj
        fields = {k: data.get(k) for k in AppealCreateForm.Meta.fields}
        for key in ("appellant_name", "appellant_email", "appellant_phone", "appellant_postal_address"):
            fields[key] = fields[key] or ""
        return appeal_svc.appeal_submit(actor=request.user, **fields)

    # --- object actions ------------------------------------------------------------------------------
    def _assign(self, request, obj, data):
        appeal_svc.appeal_assign_reviewer(
            actor=request.user, appeal=obj, reviewer=data["reviewer"], decided_by=list(data["decided_by"])
        )
        return f"{data['reviewer'].get_username()} reviews {obj.public_id}."

    def _resolve(self, request, obj, data):
        appeal_svc.appeal_resolve(actor=request.user, appeal=obj, **data)
        return f"{obj.public_id} resolved."

    def _escalate(self, request, obj, data):
        appeal = appeal_svc.appeal_escalate(actor=request.user, appeal=obj, **data)
        return f"{obj.public_id} escalated to {appeal.escalated_to_label}."

    def _withdraw(self, request, obj, data):
        appeal_svc.appeal_withdraw(actor=request.user, appeal=obj, **data)
        return f"{obj.public_id} withdrawn."

    def _inform(self, request, obj, data):
        appeal_svc.appeal_add_information(actor=request.user, appeal=obj, **data)
        return f"Information added to {obj.public_id}."

    @staticmethod
    def _assign_choices(request, obj):
        members = get_user_model().objects.filter(icdev_memberships__project=obj.project, is_active=True).distinct()
        return {"candidates": appeal_sel.appeal_reviewer_candidates(request.user, obj), "members": members}

    object_actions = [
        ObjectAction(
            "assign",
            "Assign reviewer",
            _assign,
            AssignForm,
            "Only members with the reviewer role who are neither the appellant nor anyone who took the "
            "contested decision can be assigned.",
            show_if=lambda r, o: o.status == Status.SUBMITTED and has_perm(r.user, o.project, Perm.APPEAL_COORDINATE),
            form_kwargs=_assign_choices,
        ),
        ObjectAction(
            "resolve",
            "Decide",
            _resolve,
            ResolveForm,
            "Record the decision; the appellant is told the outcome and the resolution.",
            show_if=lambda r, o: (
                (o.status == Status.UNDER_REVIEW and o.reviewer_id == r.user.pk)
                or (o.status == Status.ESCALATED and appeal_sel.appeal_can_decide_escalation(r.user, o))
            ),
        ),
        ObjectAction(
            "escalate",
            "Escalate",
            _escalate,
            ReasonForm,
            "Send the appeal to the CAIO or the official delegated appeal escalation for the use case's scope.",
            show_if=lambda r, o: o.status == Status.UNDER_REVIEW and o.reviewer_id == r.user.pk,
        ),
        ObjectAction(
            "withdraw",
            "Withdraw for the appellant",
            _withdraw,
            OptionalReasonForm,
            "Only for an appellant without an account who asked to withdraw; the process is cancelled.",
            show_if=lambda r, o: (
                o.is_open and o.appellant_id is None and has_perm(r.user, o.project, Perm.APPEAL_COORDINATE)
            ),
        ),
        ObjectAction(
            "inform",
            "Add information from the appellant",
            _inform,
            InformationForm,
            show_if=lambda r, o: (
                o.is_open and o.appellant_id is None and has_perm(r.user, o.project, Perm.APPEAL_COORDINATE)
            ),
        ),
    ]
