"""Admin pages of impact assessments, waivers and feedback. Every write calls a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accountability.config_schema import IMPACT_DIMENSIONS
from accountability.models import AIUseCase, FeedbackChannel, FeedbackItem, ImpactAssessment, Waiver
from accountability.permissions import Perm
from accountability.rules.evidence import SECTION_TITLES, section_gaps
from accountability.services import evidence_feedback as feedback
from accountability.services import evidence_impact as impact
from accountability.services import evidence_waivers as waivers

from .base import ObjectAction, linked
from .evidence import ConfirmForm, EvidenceAdmin, PrettyJSONField, ReasonForm, _changed, badge, https_urls

User = get_user_model()
Status = ImpactAssessment.Status

# --- impact assessments ------------------------------------------------------------------------------------

CONTENT = list(ImpactAssessment.CONTENT_FIELDS)


class ImpactAddForm(forms.ModelForm):
    benefit_metrics = PrettyJSONField(required=False, initial=list, help_text='[{"name": "...", "target": "..."}]')

    class Meta:
        model = ImpactAssessment
        formfield_callback = https_urls
        fields = ["use_case", *CONTENT, "developers"]


class ImpactDraftForm(forms.ModelForm):
    benefit_metrics = PrettyJSONField(required=False, help_text='[{"name": "...", "target": "..."}]')

    class Meta:
        model = ImpactAssessment
        formfield_callback = https_urls
        fields = [*CONTENT, "developers"]


class ScoreForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in IMPACT_DIMENSIONS:
            self.fields[name] = forms.DecimalField(
                min_value=0, max_value=100, decimal_places=2, help_text="0–100; 100 is the riskiest"
            )


class ReviewForm(forms.Form):
    recommendation = forms.ChoiceField(choices=ImpactAssessment.Recommendation.choices)
    comments = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), help_text="Passed to the risk acceptor.")
    reviewer_office = forms.CharField(required=False)


class AcceptRiskForm(forms.Form):
    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="The statement you sign.")
    acceptor_title = forms.CharField(required=False)


class NewAssessmentVersionForm(forms.Form):
    change_summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="e.g. scheduled reassessment, significant modification"
    )


@admin.register(ImpactAssessment)
class ImpactAssessmentAdmin(EvidenceAdmin):
    list_display = [
        "public_id",
        "use_case_link",
        "version",
        "status_badge",
        "risk_score",
        "risk_class",
        "reviewer_name",
        "risk_accepted_at",
        "next_reassessment_due",
        "project_key",
    ]
    list_filter = ["status", "risk_class", "use_case_stage_at_acceptance", "project"]
    search_fields = ["use_case__name", "purpose_and_benefits", "reviewer_name", "risk_acceptor_name"]
    list_select_related = ["project", "use_case"]
    add_form, change_form = ImpactAddForm, ImpactDraftForm
    detail_fields = [
        "public_id",
        "use_case",
        "version",
        "status",
        "change_summary",
        "sections",
        *CONTENT,
        "developers",
        "score_table",
        "reviewer",
        "reviewer_name",
        "reviewer_office",
        "reviewed_at",
        "review_recommendation",
        "review_comments",
        "risk_accepted_by",
        "risk_acceptor_name",
        "risk_acceptor_title",
        "risk_accepted_at",
        "risk_acceptance_statement",
        "use_case_stage_at_acceptance",
        "next_reassessment_due",
        "submitted_by",
        "submitted_at",
        "superseded_at",
        "created_by",
        "created_at",
    ]

    def editable(self, obj):
        return obj.status == Status.DRAFT

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return [*fields, "sections", "score_table"] if obj is not None and self.editable(obj) else fields

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "sections", "score_table"] if obj is not None and self.editable(obj) else fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "developers":
            kwargs["queryset"] = User.objects.filter(is_active=True).order_by("username")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.status, good=("accepted",), bad=())

    @admin.display(description="sections A–G")
    def sections(self, obj):
        gaps = section_gaps(obj, involves_pii=obj.use_case.involves_pii)
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} {}: {}</li>",
                ((k, SECTION_TITLES[k], "complete" if not gaps[k] else "missing " + ", ".join(gaps[k])) for k in gaps),
            ),
        )

    @admin.display(description="risk score")
    def score_table(self, obj):
        if obj.risk_score is None:
            return "Not scored."
        weights = obj.score_parameters.get("weights", {})
        rows = (
            (name, getattr(obj, field), weights.get(name, "")) for name, field in ImpactAssessment.SCORE_FIELDS.items()
        )
        return format_html(
            "<table><tr><th>dimension</th><th>score</th><th>weight</th></tr>{}</table><p><b>{} ({})</b></p>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
            obj.risk_score,
            obj.risk_class,
        )

    def call_service(self, request, obj, data, changed):
        data = {**data, "developers": list(data.get("developers") or [])}
        if obj is None:
            return impact.impact_assessment_create(actor=request.user, **data)
        allowed = [*CONTENT, "developers"]
        changes = _changed(data, changed, allowed)
        return impact.impact_assessment_update(actor=request.user, assessment=obj, **changes)

    def _score(self, request, obj, data):
        done = impact.impact_assessment_score(actor=request.user, assessment=obj, scores=data)
        return f"{obj.public_id} scored {done.risk_score} ({done.risk_class})."

    def _submit(self, request, obj, data):
        impact.impact_assessment_submit(actor=request.user, assessment=obj)
        return f"{obj.public_id} submitted for independent review."

    def _review(self, request, obj, data):
        impact.impact_assessment_review(actor=request.user, assessment=obj, **data)
        return "Independent review recorded; the risk acceptors were notified."

    def _accept(self, request, obj, data):
        impact.impact_assessment_accept_risk(actor=request.user, assessment=obj, **data)
        return f"Risk accepted; {obj.public_id} is the current assessment."

    def _return(self, request, obj, data):
        impact.impact_assessment_return(actor=request.user, assessment=obj, reason=data["reason"])
        return f"{obj.public_id} returned to draft."

    def _new_version(self, request, obj, data):
        new = impact.impact_assessment_new_version(actor=request.user, assessment=obj, **data)
        return f"{new.public_id} (v{new.version}) drafted."

    object_actions = [
        ObjectAction(
            "score",
            "Score risk dimensions",
            _score,
            ScoreForm,
            "Weights and thresholds come from the policy file (portal defaults).",
            show_if=lambda r, o: o.status == Status.DRAFT,
            initial=lambda r, o: {n: getattr(o, f) for n, f in ImpactAssessment.SCORE_FIELDS.items()},
        ),
        ObjectAction(
            "submit",
            "Submit for independent review",
            _submit,
            ConfirmForm,
            show_if=lambda r, o: o.status == Status.DRAFT,
        ),
        ObjectAction(
            "review",
            "Record independent review (F)",
            _review,
            ReviewForm,
            "You review as yourself; developers of the system and the assessment's author cannot.",
            show_if=lambda r, o: o.status == Status.SUBMITTED,
        ),
        ObjectAction(
            "accept_risk",
            "Sign risk acceptance (G)",
            _accept,
            AcceptRiskForm,
            "The CAIO or the use case's responsible official; not the reviewer.",
            show_if=lambda r, o: o.status == Status.REVIEWED,
        ),
        ObjectAction(
            "return",
            "Return to draft",
            _return,
            ReasonForm,
            show_if=lambda r, o: o.status in (Status.SUBMITTED, Status.REVIEWED),
        ),
        ObjectAction(
            "new_version",
            "Start a reassessment (new version)",
            _new_version,
            NewAssessmentVersionForm,
            show_if=lambda r, o: o.status in (Status.ACCEPTED, Status.SUPERSEDED),
        ),
    ]


# --- waivers ---------------------------------------------------------------------------------------------------

PRACTICES = [(p, p.replace("_", " ")) for p in AIUseCase.MINIMUM_PRACTICES]


class WaiverIssueForm(forms.ModelForm):
    practices = forms.MultipleChoiceField(choices=PRACTICES, widget=forms.CheckboxSelectMultiple)
    granted_on = forms.DateField(required=False, help_text="Default: today.")

    class Meta:
        model = Waiver
        formfield_callback = https_urls
        fields = [
            "use_case",
            "practices",
            "basis",
            "determination",
            "risk_assessment",
            "granted_on",
            "public_summary_url",
        ]


class RecertifyForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="The reassessment behind it.")


class RevokeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class OmbReportForm(forms.Form):
    event = forms.ChoiceField(choices=[("grant", "Grant"), ("revocation", "Revocation")])
    reported_on = forms.DateField(help_text="YYYY-MM-DD")


class SummaryForm(forms.Form):
    url = forms.URLField(assume_scheme="https")


class WaiverStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Waiver.Status.choices

    def queryset(self, request, queryset):
        return queryset.filter(current_status=self.value()) if self.value() else queryset


class OmbOverdueFilter(admin.SimpleListFilter):
    title = "OMB report overdue"
    parameter_name = "omb_overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(omb_report_overdue=self.value() == "yes")
        return queryset


@admin.register(Waiver)
class WaiverAdmin(EvidenceAdmin):
    list_display = [
        "public_id",
        "use_case_link",
        "practice_list",
        "status_badge",
        "granted_on",
        "next_recertification_due",
        "grant_reported_to_omb_on",
        "omb_overdue",
        "issued_by",
        "project_key",
    ]
    list_filter = [WaiverStatusFilter, OmbOverdueFilter, "basis", "project"]
    search_fields = ["use_case__name", "determination"]
    list_select_related = ["project", "use_case", "issued_by"]
    edit_perm = Perm.WAIVER_ISSUE
    add_form = WaiverIssueForm
    detail_fields = [
        "public_id",
        "use_case",
        "status_badge",
        "practice_list",
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
        "public_summary_url",
        "created_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_status().prefetch_related("practices")

    @admin.display(description="status")
    def status_badge(self, obj):
        status = getattr(obj, "current_status", None) or obj.status
        return badge(status, good=("active",), bad=("recertification_overdue",))

    @admin.display(description="OMB report overdue", boolean=True)
    def omb_overdue(self, obj):
        value = getattr(obj, "omb_report_overdue", None)
        return obj.omb_report_overdue_on() if value is None else bool(value)

    @admin.display(description="practices")
    def practice_list(self, obj):
        return ", ".join(sorted(p.practice.replace("_", " ") for p in obj.practices.all()))

    def call_service(self, request, obj, data, changed):
        return waivers.waiver_issue(actor=request.user, **{**data, "practices": list(data["practices"])})

    def _recertify(self, request, obj, data):
        done = waivers.waiver_recertify(actor=request.user, waiver=obj, note=data["note"])
        return f"{obj.public_id} recertified until {done.next_recertification_due}."

    def _revoke(self, request, obj, data):
        waivers.waiver_revoke(actor=request.user, waiver=obj, reason=data["reason"])
        return f"{obj.public_id} revoked; report it to OMB within 30 days."

    def _omb(self, request, obj, data):
        waivers.waiver_record_omb_report(actor=request.user, waiver=obj, **data)
        return "OMB report recorded."

    def _summary(self, request, obj, data):
        waivers.waiver_set_public_summary(actor=request.user, waiver=obj, url=data["url"])
        return "Public summary recorded."

    object_actions = [
        ObjectAction(
            "recertify",
            "Recertify",
            _recertify,
            RecertifyForm,
            "Only the project's active CAIO; waiver authority is not delegable (M-25-21 §4(a)(ii)).",
            show_if=lambda r, o: o.revoked_on is None,
        ),
        ObjectAction(
            "revoke",
            "Revoke",
            _revoke,
            RevokeForm,
            "Only the project's active CAIO.",
            show_if=lambda r, o: o.revoked_on is None,
        ),
        ObjectAction(
            "omb",
            "Record OMB report",
            _omb,
            OmbReportForm,
            "Grants and revocations are reported to OMB within 30 days (M-25-21 §4(a)(iii)).",
            initial=lambda r, o: {
                "event": "revocation" if o.revoked_on else "grant",
                "reported_on": timezone.localdate(),
            },
        ),
        ObjectAction(
            "summary",
            "Record public summary",
            _summary,
            SummaryForm,
            initial=lambda r, o: {"url": o.public_summary_url},
        ),
    ]


# --- feedback ------------------------------------------------------------------------------------------------------


class ItemInline(admin.TabularInline):
    model = FeedbackItem
    fields = ["item", "received_at", "category", "status", "triage_due_at", "outcome"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-received_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="item")
    def item(self, obj):
        return linked(obj, obj.public_id)


class ChannelForm(forms.ModelForm):
    class Meta:
        model = FeedbackChannel
        formfield_callback = https_urls
        fields = ["use_case", "name", "method", "audience", "url", "contact", "description"]


class ItemForm(forms.Form):
    category = forms.ChoiceField(choices=FeedbackItem.Category.choices)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    received_at = forms.DateTimeField(required=False, help_text="Default: now.")
    reference = forms.CharField(required=False)


@admin.register(FeedbackChannel)
class FeedbackChannelAdmin(EvidenceAdmin):
    list_display = ["public_id", "name", "method", "audience", "is_active", "use_case_link", "project_key"]
    list_filter = ["is_active", "method", "audience", "project"]
    search_fields = ["name", "url", "contact", "use_case__name"]
    list_select_related = ["project", "use_case"]
    inlines = [ItemInline]
    add_form = ChannelForm
    detail_fields = [
        "public_id",
        "use_case",
        "is_active",
        *ChannelForm.Meta.fields[1:],
        "deactivated_at",
        "deactivation_reason",
        "created_at",
    ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def call_service(self, request, obj, data, changed):
        return feedback.feedback_channel_create(actor=request.user, **data)

    def _record(self, request, obj, data):
        item = feedback.feedback_item_record(
            actor=request.user, channel=obj, **{k: v for k, v in data.items() if v is not None}
        )
        return f"{item.public_id} recorded; triage due {item.triage_due_at:%Y-%m-%d}."

    def _deactivate(self, request, obj, data):
        feedback.feedback_channel_deactivate(actor=request.user, channel=obj, reason=data["reason"])
        return f"{obj.public_id} closed."

    object_actions = [
        ObjectAction("record", "Record feedback received", _record, ItemForm, show_if=lambda r, o: o.is_active),
        ObjectAction("deactivate", "Close channel", _deactivate, ReasonForm, show_if=lambda r, o: o.is_active),
    ]


class TriageForm(forms.Form):
    outcome = forms.ChoiceField(choices=FeedbackItem.Outcome.choices)
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for escalations: name the incident or appeal.",
    )


class TriageDueFilter(admin.SimpleListFilter):
    title = "triage"
    parameter_name = "triage"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("open", "Not triaged")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(status=FeedbackItem.Status.RECEIVED)
        if self.value() == "overdue":
            return queryset.filter(status=FeedbackItem.Status.RECEIVED, triage_due_at__lt=timezone.now())
        return queryset


@admin.register(FeedbackItem)
class FeedbackItemAdmin(EvidenceAdmin):
    list_display = [
        "public_id",
        "received_at",
        "category",
        "status",
        "triage_due_at",
        "outcome",
        "channel_link",
        "use_case_link",
        "project_key",
    ]
    list_filter = [TriageDueFilter, "status", "category", "outcome", "project"]
    search_fields = ["summary", "reference"]
    date_hierarchy = "received_at"
    list_select_related = ["project", "use_case", "channel"]
    detail_fields = [
        "public_id",
        "channel",
        "use_case",
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
    ]

    @admin.display(description="channel")
    def channel_link(self, obj):
        return linked(obj.channel, obj.channel.public_id)

    def _triage(self, request, obj, data):
        feedback.feedback_item_triage(actor=request.user, item=obj, **data)
        return f"{obj.public_id} triaged."

    object_actions = [
        ObjectAction(
            "triage", "Triage", _triage, TriageForm, show_if=lambda r, o: o.status == FeedbackItem.Status.RECEIVED
        ),
    ]
