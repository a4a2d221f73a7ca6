"""Ethics reviews in the admin: the board, versions and scores (read-only), the process state and task
history, and buttons that call the ethics services (add a board member, start, decide, revise)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.html import format_html_join

from accountability.models import BoardMember, EthicsReview, EthicsReviewVersion, Incident, RubricScore, Stakeholder
from accountability.permissions import Perm, has_perm, visible_projects
from accountability.rules import rubrics
from accountability.selectors.registry import use_case_list
from accountability.services import ethics as ethics_svc

from .base import ObjectAction, ProjectScopedAdmin
from .workflow import process_summary

Status = EthicsReview.Status


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class BoardInline(ReadOnlyInline):
    model = BoardMember
    fields = ["user", "discipline", "party", "stakeholder"]
    readonly_fields = fields


class VersionInline(ReadOnlyInline):
    model = EthicsReviewVersion
    fields = [
        "version",
        "summary",
        "opened_at",
        "scored_count",
        "quorum_met",
        "aggregate_score",
        "recommendation",
        "outcome",
        "decided_by",
        "closed_at",
    ]
    readonly_fields = fields


class ScoreInline(ReadOnlyInline):
    model = RubricScore
    fields = ["version", "reviewer", "disposition", "scores", "weighted_score", "conflict_of_interest", "comments"]
    readonly_fields = fields


class EthicsReviewCreateForm(forms.ModelForm):
    summary = forms.CharField(widget=forms.Textarea, help_text="What the board reviews (version 1).")
    material_url = forms.URLField(required=False, assume_scheme="https")
    rubric = forms.ChoiceField(choices=(), help_text="From the governance policy (D319).")
    quorum_rule = forms.ChoiceField(choices=(), required=False)

    class Meta:
        model = EthicsReview
        fields = ["use_case", "review_type", "incident", "title"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["rubric"].choices = [(f"{k}@{v}", f"{k} v{v}") for k, v in rubrics.rubric_choices()]
        self.fields["quorum_rule"].choices = [("", "policy default"), *((n, n) for n in rubrics.quorum_names())]


class MemberForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    discipline = forms.ChoiceField(choices=BoardMember.Discipline.choices)
    party = forms.ChoiceField(choices=BoardMember.Party.choices)
    stakeholder = forms.ModelChoiceField(queryset=Stakeholder.objects.none(), required=False)

    def __init__(self, *args, users=None, stakeholders=None, **kwargs):
        super().__init__(*args, **kwargs)
        if users is not None:
            self.fields["user"].queryset = users
        if stakeholders is not None:
            self.fields["stakeholder"].queryset = stakeholders


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(choices=EthicsReviewVersion.Outcome.choices)
    findings = forms.CharField(widget=forms.Textarea)
    recommendations = forms.CharField(widget=forms.Textarea, required=False)
    conditions = forms.CharField(widget=forms.Textarea, required=False, help_text="For an approval with conditions.")


class ReviseForm(forms.Form):
    summary = forms.CharField(widget=forms.Textarea, help_text="What changed in this version.")
    material_url = forms.URLField(required=False, assume_scheme="https")


@admin.register(EthicsReview)
class EthicsReviewAdmin(ProjectScopedAdmin):
    list_display = ["public_id", "title", "project_key", "use_case", "review_type", "status", "version", "decision"]
    list_filter = ["status", "review_type", "decision", "project"]
    search_fields = ["title", "use_case__name"]
    list_select_related = ["project", "use_case"]
    view_perm = Perm.ETHICS_VIEW
    edit_perm = Perm.ETHICS_MANAGE
    ordering = ["-created_at"]
    inlines = [BoardInline, VersionInline, ScoreInline]
    readonly_fields = [
        "public_id",
        "project",
        "use_case",
        "review_type",
        "incident",
        "title",
        "status",
        "version",
        "submitted_by",
        "rubric_key",
        "rubric_version",
        "rubric_criteria",
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
        "process_state",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["public_id", "project", "use_case", "review_type", "incident", "title", "status", "version"]},
        ),
        ("Outcome", {"fields": ["decision", "findings", "recommendations", "conditions", "decided_by"]}),
        (
            "Rubric and quorum",
            {"fields": ["rubric_key", "rubric_version", "rubric_criteria", "quorum_rule", "score_timeout_days"]},
        ),
        ("Dates", {"fields": ["submitted_by", "created_at", "started_at", "completed_at"]}),
        ("Process and task history", {"fields": ["process_state"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = EthicsReviewCreateForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["use_case", "review_type", "incident", "title", "summary", "material_url"]}),
                ("Policy", {"fields": ["rubric", "quorum_rule"]}),
            ]
        return self.fieldsets

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "use_case":
            kwargs["queryset"] = use_case_list(request.user).filter(
                project__in=visible_projects(request.user, Perm.ETHICS_MANAGE)
            )
        if db_field.name == "incident":
            kwargs["queryset"] = Incident.objects.filter(project__in=visible_projects(request.user, Perm.ETHICS_MANAGE))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="criteria")
    def rubric_criteria(self, obj):
        return format_html_join(
            ", ",
            "{} (weight {}{})",
            (
                (c["label"], c["weight"], f", veto below {c['veto_below']}" if "veto_below" in c else "")
                for c in obj.rubric["criteria"]
            ),
        )

    @admin.display(description="process")
    def process_state(self, obj):
        return process_summary(obj)

    def call_service(self, request, obj, data, changed):
        if obj is not None:
            return obj
        key, _, version = data["rubric"].partition("@")
        return ethics_svc.ethics_review_create(
            actor=request.user,
            use_case=data["use_case"],
            review_type=data["review_type"],
            incident=data.get("incident"),
            title=data.get("title") or "",
            summary=data["summary"],
            material_url=data.get("material_url") or "",
            rubric_key=key,
            rubric_version=int(version),
            quorum_rule=data.get("quorum_rule") or "",
            board=[],
        )

    # --- object actions ------------------------------------------------------------------------------
    def _member(self, request, obj, data):
        ethics_svc.ethics_review_add_member(actor=request.user, review=obj, **data)
        return f"{data['user'].get_username()} joined the board."

    def _start(self, request, obj, data):
        ethics_svc.ethics_review_start(actor=request.user, review=obj)
        return f"{obj.public_id} started: the board is scoring."

    def _decide(self, request, obj, data):
        review = ethics_svc.ethics_review_decide(actor=request.user, review=obj, **data)
        return f"{obj.public_id}: {review.get_status_display()}."

    def _revise(self, request, obj, data):
        review = ethics_svc.ethics_review_revise(actor=request.user, review=obj, **data)
        return f"{obj.public_id} is now at version {review.version}; the board scores it anew."

    @staticmethod
    def _member_choices(request, obj):
        users = get_user_model().objects.filter(
            icdev_memberships__project=obj.project, icdev_memberships__role="ethics_board", is_active=True
        )
        return {
            "users": users.exclude(pk=obj.submitted_by_id).exclude(pk__in=obj.board.values("user_id")).distinct(),
            "stakeholders": Stakeholder.objects.filter(use_case=obj.use_case, is_active=True),
        }

    object_actions = [
        ObjectAction(
            "member",
            "Add board member",
            _member,
            MemberForm,
            "Board members hold the ethics board role; the submitter never sits on their own review's board.",
            show_if=lambda r, o: o.status == Status.PENDING and has_perm(r.user, o.project, Perm.ETHICS_MANAGE),
            form_kwargs=_member_choices,
        ),
        ObjectAction(
            "start",
            "Start the review",
            _start,
            forms.Form,
            "Each board member gets a scoring task; the board must be able to reach the quorum.",
            show_if=lambda r, o: o.status == Status.PENDING and has_perm(r.user, o.project, Perm.ETHICS_MANAGE),
        ),
        ObjectAction(
            "decide",
            "Decide",
            _decide,
            DecideForm,
            "Available once the round is tallied. Without quorum only 'request changes' is possible; the scores "
            "cap the decision (a veto allows at most reject).",
            show_if=lambda r, o: (
                o.status == Status.IN_PROGRESS
                and o.submitted_by_id != r.user.pk
                and has_perm(r.user, o.project, Perm.ETHICS_DECIDE)
            ),
        ),
        ObjectAction(
            "revise",
            "Submit a revision",
            _revise,
            ReviseForm,
            show_if=lambda r, o: o.status == Status.REQUIRES_CHANGES and o.submitted_by_id == r.user.pk,
        ),
    ]
