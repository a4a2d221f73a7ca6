"""Admin pages of the governance registry. Every write calls a service."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accountability.config import policy
from accountability.exceptions import AccountabilityError
from accountability.models import (
    AIUseCase,
    CAIODesignation,
    ContractualObligation,
    Membership,
    OversightPlan,
    OversightPlanVersion,
    Project,
    Stakeholder,
)
from accountability.permissions import Perm, has_perm, is_unrestricted, visible_projects
from accountability.rules.completeness import completeness_report
from accountability.rules.plans import CONTENT_FIELDS
from accountability.services import caio as caio_svc
from accountability.services import oversight as plan_svc
from accountability.services import projects as project_svc
from accountability.services import stakeholders as sh_svc
from accountability.services import use_cases as uc_svc
from accountability.services.use_cases import DESCRIPTIVE_FIELDS

from .base import ObjectAction, ProjectScopedAdmin, linked


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


# --- projects and memberships -------------------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "project"
    fields = ["user", "role", "granted_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class GrantForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True).order_by("username"))
    role = forms.ChoiceField(choices=Membership.Role.choices)


@admin.register(Project)
class ProjectAdmin(ProjectScopedAdmin):
    project_path = "pk"
    list_display = [
        "key",
        "name",
        "organization",
        "program",
        "is_federal_agency",
        "is_cfo_act_agency",
        "n_use_cases",
        "caio",
    ]
    list_filter = ["is_federal_agency", "is_cfo_act_agency"]
    search_fields = ["key", "name", "organization", "program"]
    inlines = [MembershipInline]
    edit_perm = Perm.PROJECT_MANAGE

    def project_of(self, obj):
        return obj

    def get_queryset(self, request):
        qs = Project.objects.annotate(_n=Count("use_cases", distinct=True))
        return qs if is_unrestricted(request.user) else qs.filter(pk__in=visible_projects(request.user).values("pk"))

    def get_readonly_fields(self, request, obj=None):
        return ["key", "created_at", "created_by"] if obj else []

    def get_fields(self, request, obj=None):
        fields = ["key", "name", "organization", "program", "is_federal_agency", "is_cfo_act_agency", "description"]
        return [*fields, "created_at", "created_by"] if obj else fields

    def has_add_permission(self, request):
        return project_svc.can_create_projects(request.user)

    @admin.display(description="use cases", ordering="_n")
    def n_use_cases(self, obj):
        return obj._n

    @admin.display(description="active CAIO")
    def caio(self, obj):
        current = CAIODesignation.objects.active().filter(project=obj).first()
        return (
            linked(current, current.official_name) if current else format_html('<b style="color:#a00">{}</b>', "none")
        )

    def call_service(self, request, obj, data, changed):
        fields = {k: data[k] for k in project_svc.PROJECT_EDITABLE if k in data}
        if obj is None:
            return project_svc.project_create(actor=request.user, key=data.get("key", ""), **fields)
        return project_svc.project_update(
            actor=request.user, project=obj, **{k: fields[k] for k in changed if k in fields}
        )

    def _grant(self, request, obj, data):
        project_svc.membership_grant(actor=request.user, project=obj, user=data["user"], role=data["role"])
        return f"{data['user']} is now {data['role']} in {obj.key}."

    object_actions = [
        ObjectAction("grant", "Grant a role", _grant, GrantForm, "Give a user a role in this project."),
    ]


@admin.register(Membership)
class MembershipAdmin(ProjectScopedAdmin):
    list_display = ["user", "role", "project_key", "granted_by", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "user__email", "project__key"]
    list_select_related = ["user", "project", "granted_by"]
    fields = ["project", "user", "role"]
    edit_perm = Perm.PROJECT_MANAGE
    actions = ["revoke_selected"]

    def get_readonly_fields(self, request, obj=None):
        return ["project", "user", "role"] if obj else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def call_service(self, request, obj, data, changed):
        return project_svc.membership_grant(
            actor=request.user, project=data["project"], user=data["user"], role=data["role"]
        )

    @admin.action(description="Revoke the selected roles")
    def revoke_selected(self, request, queryset):
        done = 0
        for membership in queryset.select_related("project", "user"):
            try:
                project_svc.membership_revoke(
                    actor=request.user,
                    project=membership.project,
                    user=membership.user,
                    role=membership.role,
                    reason="revoked in admin",
                )
                done += 1
            except AccountabilityError as exc:
                self.message_user(request, f"{membership}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"Revoked {done} role(s).", messages.SUCCESS)


# --- use cases ----------------------------------------------------------------------------------


class CompletenessFilter(admin.SimpleListFilter):
    title = "inventory completeness"
    parameter_name = "complete"

    def lookups(self, request, model_admin):
        return [("yes", "Complete"), ("no", "Incomplete")]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        ids = [uc.pk for uc in queryset if completeness_report(uc).complete == (self.value() == "yes")]
        return queryset.filter(pk__in=ids)


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=AIUseCase.Stage.choices)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DeterminationForm(forms.Form):
    determination = forms.ChoiceField(choices=AIUseCase.HighImpact.choices)
    bases = forms.MultipleChoiceField(
        choices=AIUseCase.HighImpactBasis.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    presumed_categories = forms.MultipleChoiceField(
        choices=AIUseCase.PresumedCategory.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    justification = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class StakeholderInline(admin.TabularInline):
    model = Stakeholder
    fields = ["name", "role", "organization", "responsibility_share", "is_active"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AIUseCase)
class AIUseCaseAdmin(ProjectScopedAdmin):
    list_display = [
        "public_id",
        "name",
        "project_key",
        "stage",
        "high_impact_determination",
        "is_generative",
        "is_agentic",
        "completeness",
    ]
    list_filter = [
        "stage",
        "high_impact_determination",
        "is_generative",
        "is_agentic",
        "is_llm_procured",
        "development_method",
        CompletenessFilter,
        "project",
    ]
    search_fields = ["name", "purpose", "bureau", "topic_area"]
    list_select_related = ["project"]
    inlines = [StakeholderInline]
    readonly_fields = [
        "public_id",
        "stage",
        "high_impact_determination",
        "high_impact_bases",
        "presumed_categories",
        "high_impact_justification",
        "determination_by",
        "determination_at",
        "completeness_report",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["project", "name", "bureau", "topic_area", "purpose", "benefits", "outputs"]}),
        (
            "Lifecycle and impact",
            {
                "fields": [
                    "stage",
                    "high_impact_determination",
                    "high_impact_bases",
                    "presumed_categories",
                    "high_impact_justification",
                    "determination_by",
                    "determination_at",
                    "minimum_practices",
                ]
            },
        ),
        (
            "Classification",
            {"fields": ["is_generative", "is_agentic", "is_llm_procured", "development_method", "vendor_name"]},
        ),
        (
            "Accountability",
            {
                "fields": [
                    "responsible_official",
                    "responsible_official_name",
                    "contact_name",
                    "contact_email",
                    "withheld",
                    "withheld_reason",
                ]
            },
        ),
        (
            "Operation",
            {
                "fields": [
                    "operational_date",
                    "ato_system_name",
                    "data_description",
                    "involves_pii",
                    "pia_url",
                    "demographic_features",
                    "has_custom_code",
                    "code_url",
                ]
            },
        ),
        ("Inventory completeness", {"fields": ["completeness_report"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None:
            fields.append("project")
            if obj.stage == AIUseCase.Stage.RETIRED:
                fields += sorted(DESCRIPTIVE_FIELDS)
        return fields

    @admin.display(description="complete")
    def completeness(self, obj):
        report = completeness_report(obj)
        colour = "#1a7f37" if report.complete else "#b35900"
        return format_html('<span style="color:{}">{} %</span>', colour, report.percent)

    @admin.display(description="missing fields")
    def completeness_report(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        report = completeness_report(obj)
        if report.complete:
            return "Complete for its stage."
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{} ({})</li>", ((m["label"], m["reason"]) for m in report.missing))
        )

    def call_service(self, request, obj, data, changed):
        if obj is None:
            fields = {k: data[k] for k in DESCRIPTIVE_FIELDS if k in data and k not in ("name",)}
            return uc_svc.use_case_create(actor=request.user, project=data["project"], name=data["name"], **fields)
        return uc_svc.use_case_update(
            actor=request.user, use_case=obj, **{k: data[k] for k in changed if k in DESCRIPTIVE_FIELDS}
        )

    def _stage(self, request, obj, data):
        uc_svc.use_case_change_stage(actor=request.user, use_case=obj, stage=data["stage"], reason=data["reason"])
        return f"{obj.public_id} moved to {data['stage']}."

    def _determine(self, request, obj, data):
        uc_svc.use_case_record_determination(
            actor=request.user,
            use_case=obj,
            determination=data["determination"],
            bases=data["bases"],
            presumed_categories=data["presumed_categories"],
            justification=data["justification"],
        )
        return f"Determination of {obj.public_id} recorded."

    object_actions = [
        ObjectAction(
            "stage",
            "Change stage",
            _stage,
            StageForm,
            "Stages move pre-deployment → pilot → deployed → retired; retired is final.",
            show_if=lambda r, o: o.stage != AIUseCase.Stage.RETIRED,
            initial=lambda r, o: {"stage": o.stage},
        ),
        ObjectAction(
            "determination",
            "Record high-impact determination",
            _determine,
            DeterminationForm,
            "M-25-21 §4(a): a use in a presumed category (§6) determined not high-impact needs a written "
            "justification for the CAIO.",
            show_if=lambda r, o: o.stage != AIUseCase.Stage.RETIRED,
            initial=lambda r, o: {
                "determination": o.high_impact_determination,
                "bases": o.high_impact_bases,
                "presumed_categories": o.presumed_categories,
                "justification": o.high_impact_justification,
            },
        ),
    ]


# --- CAIO ---------------------------------------------------------------------------------------


class CAIOStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return CAIODesignation.Status.choices

    def queryset(self, request, queryset):
        return queryset.filter(current_status=self.value()) if self.value() else queryset


class DelegateForm(forms.Form):
    delegate_name = forms.CharField()
    delegate_email = forms.EmailField()
    scope = forms.ChoiceField(choices=CAIODesignation.Scope.choices)
    scope_ref = forms.CharField(required=False, help_text="e.g. the program name for a program scope")
    powers = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, choices=[])
    start_date = forms.DateField(required=False, help_text="YYYY-MM-DD; today when empty")
    end_date = forms.DateField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rules = policy()["caio"]
        self.fields["powers"].choices = [
            (p, p.replace("_", " ")) for p in [*rules["delegable_powers"], *rules["non_delegable_powers"]]
        ]


class UndelegateForm(forms.Form):
    position = forms.IntegerField(min_value=1, help_text="1 is the first delegate below the CAIO")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class OmbForm(forms.Form):
    notified_on = forms.DateField(help_text="YYYY-MM-DD")


class CAIOCreateForm(forms.ModelForm):
    replace = forms.BooleanField(required=False, help_text="Revoke any designation that overlaps this one.")
    reason = forms.CharField(required=False, help_text="Why (recorded in the ledger).")

    class Meta:
        model = CAIODesignation
        fields = [
            "project",
            "official",
            "official_name",
            "official_email",
            "official_title",
            "grade",
            "authority_scope",
            "effective_date",
            "expiry_date",
            "omb_notified_at",
        ]


@admin.register(CAIODesignation)
class CAIODesignationAdmin(ProjectScopedAdmin):
    list_display = [
        "public_id",
        "official_name",
        "official_email",
        "project_key",
        "authority_scope",
        "status_badge",
        "effective_date",
        "expiry_date",
        "omb_notified_at",
        "delegates",
    ]
    list_filter = [CAIOStatusFilter, "authority_scope", "grade", "project"]
    search_fields = ["official_name", "official_email"]
    list_select_related = ["project", "official"]
    edit_perm = Perm.CAIO_MANAGE
    add_form = CAIOCreateForm

    def get_queryset(self, request):
        return super().get_queryset(request).with_status()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = CAIOCreateForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*CAIOCreateForm.Meta.fields, "replace", "reason"]
        return [
            "public_id",
            "project",
            "official",
            "official_name",
            "official_email",
            "official_title",
            "grade",
            "authority_scope",
            "effective_date",
            "expiry_date",
            "omb_notified_at",
            "chain",
            "revoked_at",
            "revoked_by",
            "revoked_reason",
            "created_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj else []

    def has_change_permission(self, request, obj=None):
        # Designations change only through the actions below (revoke, delegate, OMB notification).
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description="status", ordering="current_status")
    def status_badge(self, obj):
        status = getattr(obj, "current_status", None) or obj.status
        colour = {"active": "#1a7f37", "scheduled": "#0b3d62"}.get(status, "#a00")
        return format_html('<b style="color:{}">{}</b>', colour, status)

    @admin.display(description="delegates")
    def delegates(self, obj):
        return len(obj.delegation_chain)

    @admin.display(description="delegation chain")
    def chain(self, obj):
        if not obj.delegation_chain:
            return "No delegates."
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>{} &lt;{}&gt; · {} scope · {} · {} → {} (delegated by {})</li>",
                (
                    (
                        d["delegate_name"],
                        d["delegate_email"],
                        d["scope"],
                        ", ".join(d["powers"]),
                        d["start_date"],
                        d["end_date"] or "open",
                        d["delegated_by"],
                    )
                    for d in obj.delegation_chain
                ),
            ),
        )

    def call_service(self, request, obj, data, changed):
        fields = {k: data.get(k) for k in CAIOCreateForm.Meta.fields}
        fields["official_title"] = fields["official_title"] or ""
        fields["grade"] = fields["grade"] or ""
        return caio_svc.caio_designate(
            actor=request.user, replace=data.get("replace", False), reason=data.get("reason", ""), **fields
        )

    def _revoke(self, request, obj, data):
        caio_svc.caio_revoke(actor=request.user, designation=obj, reason=data["reason"])
        return f"{obj.public_id} revoked."

    def _delegate(self, request, obj, data):
        caio_svc.caio_add_delegation(actor=request.user, designation=obj, **data)
        return f"Delegate {data['delegate_email']} added to {obj.public_id}."

    def _undelegate(self, request, obj, data):
        caio_svc.caio_remove_delegation(actor=request.user, designation=obj, **data)
        return f"Delegation withdrawn from position {data['position']}."

    def _omb(self, request, obj, data):
        caio_svc.caio_record_omb_notification(actor=request.user, designation=obj, **data)
        return "OMB notification recorded."

    def _live(request, obj):  # a predicate for the actions below, not a method
        return obj.revoked_at is None and obj.status != CAIODesignation.Status.EXPIRED

    object_actions = [
        ObjectAction(
            "revoke",
            "Revoke designation",
            _revoke,
            ReasonForm,
            "A revoked designation cannot be restored.",
            show_if=_live,
        ),
        ObjectAction(
            "delegate",
            "Add a delegate",
            _delegate,
            DelegateForm,
            "The delegate is delegated by the last link of the chain (or the CAIO). Waiver authority is "
            "never delegable (M-25-21 §4(a)(ii)).",
            show_if=_live,
        ),
        ObjectAction(
            "undelegate",
            "Withdraw a delegation",
            _undelegate,
            UndelegateForm,
            show_if=lambda r, o: bool(o.delegation_chain),
        ),
        ObjectAction(
            "omb",
            "Record OMB notification",
            _omb,
            OmbForm,
            initial=lambda r, o: {"notified_on": o.omb_notified_at or timezone.localdate()},
        ),
    ]


# --- oversight plans ----------------------------------------------------------------------------


class VersionInline(admin.TabularInline):
    model = OversightPlanVersion
    fields = [
        "version_link",
        "status",
        "name",
        "change_summary",
        "created_by",
        "created_at",
        "approved_by",
        "approved_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="version")
    def version_link(self, obj):
        return linked(obj, f"v{obj.version}")


class JSONListField(forms.JSONField):
    def prepare_value(self, value):
        return json.dumps(value, indent=2) if isinstance(value, list) else super().prepare_value(value)


class PlanContentForm(forms.Form):
    name = forms.CharField()
    roles = JSONListField(help_text='[{"role": "...", "assignee": "...", "responsibilities": "..."}]')
    escalation_path = JSONListField(help_text='[{"level": 1, "role": "...", "trigger": "...", "within_hours": 24}]')
    hitl_checkpoints = JSONListField(
        help_text='[{"decision": "...", "approval_required": true, "approver_roles": ["..."]}]'
    )
    approval_required = forms.BooleanField(required=False)
    intervention_role = forms.CharField(required=False)
    fail_safe = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    fail_safe_not_applicable_reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    change_summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class PlanCreateForm(forms.ModelForm):
    template = forms.ChoiceField(required=False)
    name = forms.CharField(required=False, help_text="Defaults to the template's title.")

    class Meta:
        model = OversightPlan
        fields = ["project", "use_case"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        templates = policy()["oversight_plan_templates"]
        self.fields["template"].choices = [("", "— blank plan —")] + [(k, v["title"]) for k, v in templates.items()]


def _plan_base_content(plan) -> dict:
    """The content a new version starts from: the active version, else the latest."""
    base = plan.versions.filter(status="active").first() or plan.versions.order_by("-version").first()
    return {f: getattr(base, f) for f in CONTENT_FIELDS} if base else {}


class ApproveForm(forms.Form):
    confirm = forms.BooleanField(label="I have reviewed this draft", required=True)


@admin.register(OversightPlan)
class OversightPlanAdmin(ProjectScopedAdmin):
    list_display = ["public_id", "title", "project_key", "use_case_link", "active", "draft"]
    list_filter = ["project"]
    search_fields = ["versions__name", "use_case__name"]
    list_select_related = ["project", "use_case"]
    inlines = [VersionInline]
    actions = ["approve_drafts"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _draft=Count("versions", filter=Q(versions__status="draft")),
                _active=Count("versions", filter=Q(versions__status="active")),
            )
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PlanCreateForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return (
            ["project", "use_case", "template", "name"]
            if obj is None
            else ["public_id", "project", "use_case", "created_by", "created_at"]
        )

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "use_case" and not is_unrestricted(request.user):
            kwargs["queryset"] = AIUseCase.objects.filter(project__in=visible_projects(request.user, self.edit_perm))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description="title")
    def title(self, obj):
        latest = obj.versions.order_by("-version").first()
        return latest.name if latest else "—"

    @admin.display(description="use case")
    def use_case_link(self, obj):
        return linked(obj.use_case, obj.use_case.public_id) if obj.use_case else "project-wide"

    @admin.display(description="active", boolean=True, ordering="_active")
    def active(self, obj):
        return bool(obj._active)

    @admin.display(description="draft pending", boolean=True, ordering="_draft")
    def draft(self, obj):
        return bool(obj._draft)

    def call_service(self, request, obj, data, changed):
        content = {"name": data["name"]} if data.get("name") else {}
        version = plan_svc.oversight_plan_create(
            actor=request.user,
            project=data["project"],
            use_case=data.get("use_case"),
            template=data.get("template", ""),
            **content,
        )
        return version.plan

    def _new_version(self, request, obj, data):
        summary = data.pop("change_summary")
        base = _plan_base_content(obj)
        changes = {k: v for k, v in data.items() if base.get(k) != v}
        version = plan_svc.oversight_plan_new_version(actor=request.user, plan=obj, change_summary=summary, **changes)
        return f"{obj.public_id} v{version.version} drafted; another approver must approve it."

    def _approve(self, request, obj, data):
        version = plan_svc.oversight_plan_approve(actor=request.user, plan=obj)
        return f"{obj.public_id} v{version.version} is now active."

    def _discard(self, request, obj, data):
        version = plan_svc.oversight_plan_discard_draft(actor=request.user, plan=obj, reason=data["reason"])
        return f"{obj.public_id} v{version.version} discarded."

    def _retire(self, request, obj, data):
        plan_svc.oversight_plan_retire(actor=request.user, plan=obj, reason=data["reason"])
        return f"{obj.public_id} retired."

    object_actions = [
        ObjectAction(
            "new_version",
            "Draft a new version",
            _new_version,
            PlanContentForm,
            "Versions are never edited: this inserts the next version as a draft.",
            show_if=lambda r, o: not o.versions.filter(status="draft").exists(),
            initial=lambda r, o: _plan_base_content(o),
        ),
        ObjectAction(
            "approve",
            "Approve the draft",
            _approve,
            ApproveForm,
            "Approval archives the active version. Authors never approve their own version.",
            show_if=lambda r, o: (
                o.versions.filter(status="draft").exists() and has_perm(r.user, o.project, Perm.PLAN_APPROVE)
            ),
        ),
        ObjectAction(
            "discard",
            "Discard the draft",
            _discard,
            ReasonForm,
            show_if=lambda r, o: o.versions.filter(status="draft").exists(),
        ),
        ObjectAction(
            "retire",
            "Retire the plan",
            _retire,
            ReasonForm,
            show_if=lambda r, o: o.versions.filter(status="active").exists(),
        ),
    ]

    @admin.action(description="Approve the draft of the selected plans")
    def approve_drafts(self, request, queryset):
        for plan in queryset:
            try:
                version = plan_svc.oversight_plan_approve(actor=request.user, plan=plan)
                self.message_user(request, f"{plan.public_id} v{version.version} approved.", messages.SUCCESS)
            except AccountabilityError as exc:
                self.message_user(request, f"{plan.public_id}: {exc}", messages.ERROR)


@admin.register(OversightPlanVersion)
class OversightPlanVersionAdmin(ProjectScopedAdmin):
    project_path = "plan__project"
    list_display = ["__str__", "name", "status", "created_by", "created_at", "approved_by", "approved_at"]
    list_filter = ["status", "plan__project"]
    search_fields = ["name", "change_summary"]
    list_select_related = ["plan__project", "created_by", "approved_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # versions are immutable; use the plan's actions

    @admin.display(description="project")
    def project_key(self, obj):
        return obj.plan.project.key


# --- stakeholders -------------------------------------------------------------------------------


class ObligationInline(admin.TabularInline):
    model = ContractualObligation
    fields = ["obligation_link", "description", "sla_metric", "sla_target", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="obligation")
    def obligation_link(self, obj):
        return linked(obj, obj.public_id)


class ObligationAddForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    sla_metric = forms.ChoiceField(choices=[("", "—"), *list(ContractualObligation.Metric.choices)], required=False)
    sla_target = forms.DecimalField(required=False, max_digits=12, decimal_places=2)
    contract_reference = forms.CharField(required=False)


@admin.register(Stakeholder)
class StakeholderAdmin(ProjectScopedAdmin):
    list_display = ["public_id", "name", "role", "use_case_link", "project_key", "responsibility_share", "is_active"]
    list_filter = ["role", "is_active", "project"]
    search_fields = ["name", "organization", "contact_name", "contact_email"]
    list_select_related = ["project", "use_case"]
    inlines = [ObligationInline]
    fields = [
        "use_case",
        "name",
        "role",
        "organization",
        "contact_name",
        "contact_email",
        "responsibility_share",
        "responsibilities",
        "is_active",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["is_active"]
        return ["use_case", "is_active"] if obj.is_active else self.fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "use_case" and not is_unrestricted(request.user):
            kwargs["queryset"] = AIUseCase.objects.filter(project__in=visible_projects(request.user, self.edit_perm))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_exclude(self, request, obj=None):
        return ["project"]

    @admin.display(description="use case")
    def use_case_link(self, obj):
        return linked(obj.use_case, obj.use_case.public_id)

    def call_service(self, request, obj, data, changed):
        editable = sh_svc.STAKEHOLDER_EDITABLE
        if obj is None:
            return sh_svc.stakeholder_add(
                actor=request.user, use_case=data["use_case"], **{k: data[k] for k in editable if k in data}
            )
        return sh_svc.stakeholder_update(
            actor=request.user, stakeholder=obj, **{k: data[k] for k in changed if k in editable}
        )

    def _deactivate(self, request, obj, data):
        sh_svc.stakeholder_deactivate(actor=request.user, stakeholder=obj, reason=data["reason"])
        return f"{obj.public_id} deactivated; its share is released."

    def _add_obligation(self, request, obj, data):
        obligation = sh_svc.obligation_add(actor=request.user, stakeholder=obj, **data)
        return f"{obligation.public_id} added."

    object_actions = [
        ObjectAction(
            "obligation", "Add an obligation", _add_obligation, ObligationAddForm, show_if=lambda r, o: o.is_active
        ),
        ObjectAction("deactivate", "Deactivate", _deactivate, ReasonForm, show_if=lambda r, o: o.is_active),
    ]


class ObligationStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ContractualObligation.Status.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


@admin.register(ContractualObligation)
class ContractualObligationAdmin(ProjectScopedAdmin):
    list_display = [
        "public_id",
        "short_description",
        "stakeholder_link",
        "project_key",
        "sla_metric",
        "sla_target",
        "status",
    ]
    list_filter = ["status", "sla_metric", "project"]
    search_fields = ["description", "contract_reference", "stakeholder__name"]
    list_select_related = ["project", "stakeholder"]

    def has_add_permission(self, request):
        return False  # added from the stakeholder page

    def has_change_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        return [
            "public_id",
            "stakeholder",
            "description",
            "sla_metric",
            "sla_target",
            "contract_reference",
            "status",
            "status_note",
            "created_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description="description")
    def short_description(self, obj):
        return obj.description[:80]

    @admin.display(description="stakeholder")
    def stakeholder_link(self, obj):
        return linked(obj.stakeholder, obj.stakeholder.name)

    def _status(self, request, obj, data):
        sh_svc.obligation_set_status(actor=request.user, obligation=obj, **data)
        return f"{obj.public_id} is now {data['status']}."

    object_actions = [
        ObjectAction(
            "status",
            "Change status",
            _status,
            ObligationStatusForm,
            show_if=lambda r, o: o.status != ContractualObligation.Status.ENDED,
        ),
    ]
