"""Admin pages of AI incidents: the record with its timeline, a button per transition, SLA and EU state,
corrective actions and stakeholder coordination. Every write calls a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.html import format_html

from accountability.models import AIUseCase, Incident
from accountability.permissions import Perm, has_perm, is_unrestricted, visible_projects
from accountability.rules.incidents import gv_4_3_002_completeness, incident_types, transition_target
from accountability.selectors.incidents import SLA_STATES, with_sla_state
from accountability.services import incident_actions as action_svc
from accountability.services import incident_coordination as coord_svc
from accountability.services import incident_lifecycle as life_svc
from accountability.services import incidents as svc
from accountability.services.incidents import RECORD_FIELDS

from .base import ObjectAction, ProjectScopedAdmin
from .incident_forms import (
    AckForm,
    AssignForm,
    CloseForm,
    CorrectiveActionForm,
    EUFlagForm,
    EUNotifyForm,
    LinkForm,
    NoteForm,
    ReasonForm,
    RequiredNoteForm,
    ResolveForm,
    SeverityForm,
    TextForm,
)
from .incident_inlines import ActionInline, EventInline, NoticeInline

SLA_COLOURS = {"breached": "#b00020", "at_risk": "#b35900", "on_track": "#1a7f37", "met": "#1a7f37"}


def sla_badge(state: str | None, breached: bool) -> str:
    state = "breached" if breached else (state or "on_track")
    return format_html('<b style="color:{}">{}</b>', SLA_COLOURS.get(state, "#333"), state.replace("_", " "))


class SLAStateFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [(s, s.replace("_", " ")) for s in SLA_STATES]

    def queryset(self, request, queryset):
        return queryset.filter(sla_state=self.value()) if self.value() in SLA_STATES else queryset


class IncidentForm(forms.ModelForm):
    incident_type = forms.ChoiceField(choices=[])
    severity = forms.ChoiceField(
        choices=[("", "— from the type (configuration) —"), *Incident.Severity.choices], required=False
    )
    affected_systems = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One system identifier per line."
    )

    class Meta:
        model = Incident
        fields = [
            "project",
            "title",
            "incident_type",
            "severity",
            "description",
            "use_cases",
            "affected_systems",
            "occurred_at",
            "detected_at",
            "source",
            "data_reported",
            "impacts",
            "stakeholders_impacted",
            "reporter_name",
            "assigned_to",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "incident_type" in self.fields:  # absent when the record is read-only (closed, or no permission)
            self.fields["incident_type"].choices = list(incident_types().items())
        if self.instance.pk:
            self.initial["affected_systems"] = "\n".join(self.instance.affected_systems)

    def clean_affected_systems(self):
        return [line.strip() for line in self.cleaned_data["affected_systems"].splitlines() if line.strip()]


@admin.register(Incident)
class IncidentAdmin(ProjectScopedAdmin):
    form = IncidentForm
    view_perm = Perm.INCIDENT_VIEW
    edit_perm = Perm.INCIDENT_MANAGE
    list_display = [
        "public_id",
        "title",
        "project_key",
        "severity",
        "status",
        "sla",
        "sla_due_at",
        "eu_deadline",
        "gv_4_3_002",
        "assigned_to",
        "reported_at",
    ]
    list_filter = [SLAStateFilter, "status", "severity", "incident_type", "eu_serious", "project"]
    search_fields = ["title", "description", "root_cause"]
    list_select_related = ["project", "assigned_to"]
    date_hierarchy = "reported_at"
    inlines = [EventInline, ActionInline, NoticeInline]
    filter_horizontal = ["use_cases"]
    STATE_FIELDS = [
        "public_id",
        "status",
        "severity_shown",
        "sla_state",
        "sla_due_at",
        "sla_breached_at",
        "sla_escalated_at",
        "assigned_to_shown",
        "reported_by",
        "reported_at",
        "root_cause",
        "root_cause_tags",
        "lessons_learned",
        "resolved_at",
        "closed_at",
        "reopen_count",
        "eu_serious",
        "eu_basis",
        "eu_aware_at",
        "eu_report_due_at",
        "eu_provider_notified_at",
        "eu_authority_notified_at",
        "eu_authority_reference",
        "eu_overdue_at",
        "completeness",
    ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # nothing to show (or post) before the row exists

    def get_queryset(self, request):
        return with_sla_state(super().get_queryset(request)).prefetch_related("use_cases")

    def has_add_permission(self, request):
        return request.user.is_staff and (
            is_unrestricted(request.user) or visible_projects(request.user, Perm.INCIDENT_REPORT).exists()
        )

    def get_fieldsets(self, request, obj=None):
        record = [
            "title",
            "incident_type",
            "description",
            "use_cases",
            "affected_systems",
            "occurred_at",
            "detected_at",
            "source",
            "data_reported",
            "impacts",
            "stakeholders_impacted",
            "reporter_name",
        ]
        if obj is None:
            return [(None, {"fields": ["project", "severity", "assigned_to", *record]})]
        return [
            (
                "State",
                {
                    "fields": [
                        "public_id",
                        "status",
                        "severity_shown",
                        "assigned_to_shown",
                        "reported_by",
                        "reported_at",
                    ]
                },
            ),
            (
                "Resolution SLA (portal policy)",
                {"fields": ["sla_state", "sla_due_at", "sla_breached_at", "sla_escalated_at"]},
            ),
            ("Record (NIST AI 600-1 GV-4.3-002)", {"fields": ["completeness", *record]}),
            (
                "Resolution",
                {
                    "fields": [
                        "root_cause",
                        "root_cause_tags",
                        "lessons_learned",
                        "resolved_at",
                        "closed_at",
                        "reopen_count",
                    ]
                },
            ),
            (
                "EU AI Act Art. 73",
                {
                    "fields": [
                        "eu_serious",
                        "eu_basis",
                        "eu_aware_at",
                        "eu_report_due_at",
                        "eu_overdue_at",
                        "eu_provider_notified_at",
                        "eu_authority_notified_at",
                        "eu_authority_reference",
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        frozen = obj.status == Incident.Status.CLOSED or not has_perm(request.user, obj.project, self.edit_perm)
        return [*self.STATE_FIELDS, *([*sorted(RECORD_FIELDS), "use_cases"] if frozen else [])]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "use_cases" and not is_unrestricted(request.user):
            kwargs["queryset"] = AIUseCase.objects.filter(
                project__in=visible_projects(request.user, Perm.INCIDENT_REPORT)
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project" and not is_unrestricted(request.user):
            kwargs["queryset"] = visible_projects(request.user, Perm.INCIDENT_REPORT)
            return super(ProjectScopedAdmin, self).formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "assigned_to" and not is_unrestricted(request.user):
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(
                    icdev_memberships__project__in=visible_projects(request.user, Perm.INCIDENT_REPORT),
                    icdev_memberships__role__in=["incident_responder", "governance_staff", "caio"],
                )
                .distinct()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def call_service(self, request, obj, data, changed):
        record = {k: data[k] for k in RECORD_FIELDS if k in data}
        if obj is None:
            return svc.incident_log(
                actor=request.user,
                project=data["project"],
                severity=data.get("severity") or "",
                use_cases=list(data.get("use_cases") or []),
                assigned_to=data.get("assigned_to"),
                **record,
            )
        use_cases = list(data["use_cases"]) if "use_cases" in changed else None
        return svc.incident_update(
            actor=request.user, incident=obj, use_cases=use_cases, **{k: record[k] for k in changed if k in record}
        )

    # --- columns -----------------------------------------------------------------------------------
    @admin.display(description="SLA", ordering="sla_due_at")
    def sla(self, obj):
        return sla_badge(getattr(obj, "sla_state", None), obj.sla_breached)

    @admin.display(description="SLA state")
    def sla_state(self, obj):
        return sla_badge(getattr(obj, "sla_state", None), obj.sla_breached)

    @admin.display(description="EU report due", ordering="eu_report_due_at")
    def eu_deadline(self, obj):
        if not obj.eu_serious:
            return "—"
        if obj.eu_authority_notified_at:
            return "reported"
        late = obj.eu_report_due_at <= timezone.now()
        due = f"{timezone.localtime(obj.eu_report_due_at):%Y-%m-%d %H:%M}"
        return format_html('<span style="color:{}">{}</span>', "#b00020" if late else "#333", due)

    @admin.display(description="GV-4.3-002")
    def gv_4_3_002(self, obj):
        report = gv_4_3_002_completeness(obj, has_use_cases=bool(obj.use_cases.all()))
        return format_html(
            '<span style="color:{}">{} %</span>', "#1a7f37" if report.complete else "#b35900", report.percent
        )

    @admin.display(description="GV-4.3-002 completeness")
    def completeness(self, obj):
        report = gv_4_3_002_completeness(obj, has_use_cases=bool(obj.use_cases.all()))
        if report.complete:
            return "All nine minimum fields are present."
        return f"{report.percent} % — missing: " + ", ".join(m["label"] for m in report.missing)

    @admin.display(description="severity")
    def severity_shown(self, obj):
        return obj.get_severity_display()

    @admin.display(description="assigned to")
    def assigned_to_shown(self, obj):
        return obj.assigned_to.get_username() if obj.assigned_to_id else "— (the project's responders)"

    # --- object actions ------------------------------------------------------------------------------
    def _investigate(self, request, obj, data):
        life_svc.incident_investigate(actor=request.user, incident=obj, note=data["note"])
        return f"{obj.public_id} is being investigated."

    def _mitigate(self, request, obj, data):
        life_svc.incident_mitigate(actor=request.user, incident=obj, note=data["note"])
        return f"{obj.public_id} mitigated."

    def _resolve(self, request, obj, data):
        life_svc.incident_resolve(actor=request.user, incident=obj, **data)
        return f"{obj.public_id} resolved."

    def _close(self, request, obj, data):
        life_svc.incident_close(actor=request.user, incident=obj, lessons_learned=data["lessons_learned"])
        return f"{obj.public_id} closed."

    def _reopen(self, request, obj, data):
        life_svc.incident_reopen(actor=request.user, incident=obj, reason=data["reason"])
        return f"{obj.public_id} reopened."

    def _severity(self, request, obj, data):
        svc.incident_change_severity(actor=request.user, incident=obj, **data)
        return f"{obj.public_id} is now {data['severity']}; the SLA deadline was recomputed."

    def _assign(self, request, obj, data):
        user = get_user_model().objects.filter(username=data["username"], is_active=True).first()
        svc.incident_assign(actor=request.user, incident=obj, assignee=user)
        return f"{obj.public_id} assigned to {data['username']}."

    def _note(self, request, obj, data):
        svc.incident_add_note(actor=request.user, incident=obj, text=data["text"])
        return "Note added to the timeline."

    def _link(self, request, obj, data):
        svc.incident_link_record(actor=request.user, incident=obj, **data)
        return f"{data['record_type']} {data['record_id']} linked."

    def _add_action(self, request, obj, data):
        owner = get_user_model().objects.filter(username=data.pop("owner_username"), is_active=True).first()
        created = action_svc.corrective_action_add(actor=request.user, incident=obj, owner=owner, **data)
        return f"{created.public_id} added."

    def _eu_flag(self, request, obj, data):
        coord_svc.incident_flag_eu_serious(actor=request.user, incident=obj, **data)
        return f"{obj.public_id} flagged as an EU serious incident."

    def _eu_clear(self, request, obj, data):
        coord_svc.incident_clear_eu_serious(actor=request.user, incident=obj, reason=data["reason"])
        return "EU classification withdrawn."

    def _eu_notify(self, request, obj, data):
        coord_svc.incident_record_eu_notification(actor=request.user, incident=obj, **data)
        return f"{data['party'].capitalize()} notification recorded."

    def _notify_parties(self, request, obj, data):
        sent = coord_svc.incident_notify_stakeholders(actor=request.user, incident=obj)
        return f"{len(sent)} part{'y' if len(sent) == 1 else 'ies'} informed by e-mail."

    def _ack(self, request, obj, data):
        notice = obj.stakeholder_notices.get(pk=data.pop("notice"))
        if data.pop("record_notice_only"):
            coord_svc.incident_record_stakeholder_notice(actor=request.user, notice=notice, channel=data["channel"])
            return f"Notice to {notice.stakeholder.name} recorded."
        data.pop("channel")
        coord_svc.incident_record_stakeholder_ack(actor=request.user, notice=notice, **data)
        return f"Acknowledgement of {notice.stakeholder.name} recorded."

    def _can(name):  # a predicate factory for the transition buttons, not a method
        return lambda request, obj: transition_target(name, obj.status) is not None

    def _not_closed(request, obj):
        return obj.status != Incident.Status.CLOSED

    def _notice_choices(request, obj):
        notices = obj.stakeholder_notices.select_related("stakeholder")
        return {"_notices": [(n.pk, f"{n.stakeholder.name} (due {n.due_at:%Y-%m-%d %H:%M})") for n in notices]}

    object_actions = [
        ObjectAction("investigate", "Investigate", _investigate, NoteForm, show_if=_can("investigate")),
        ObjectAction("mitigate", "Mitigate", _mitigate, RequiredNoteForm, show_if=_can("mitigate")),
        ObjectAction(
            "resolve", "Resolve", _resolve, ResolveForm, "Resolving needs a root cause.", show_if=_can("resolve")
        ),
        ObjectAction(
            "close",
            "Close",
            _close,
            CloseForm,
            "Closing needs the lessons learned and no open corrective action.",
            show_if=_can("close"),
            initial=lambda r, o: {"lessons_learned": o.lessons_learned},
        ),
        ObjectAction("reopen", "Reopen", _reopen, ReasonForm, "Reopening needs a reason.", show_if=_can("reopen")),
        ObjectAction(
            "severity",
            "Change severity",
            _severity,
            SeverityForm,
            "The SLA deadline is recomputed from when the incident was logged.",
            show_if=lambda r, o: o.is_open,
            initial=lambda r, o: {"severity": o.severity},
        ),
        ObjectAction("assign", "Assign", _assign, AssignForm, show_if=_not_closed),
        ObjectAction("note", "Add a note", _note, TextForm),
        ObjectAction("corrective", "Add a corrective action", _add_action, CorrectiveActionForm, show_if=_not_closed),
        ObjectAction("link", "Link a record", _link, LinkForm, "An appeal, agent session, ledger entry or review."),
        ObjectAction(
            "eu_flag",
            "EU serious incident",
            _eu_flag,
            EUFlagForm,
            "EU AI Act Art. 73: the authority report is due 15 days after awareness, 10 after a death, 2 for a "
            "widespread infringement or critical-infrastructure disruption.",
            show_if=lambda r, o: o.eu_authority_notified_at is None,
            initial=lambda r, o: {"basis": o.eu_basis or "general", "aware_at": o.eu_aware_at or timezone.now()},
        ),
        ObjectAction(
            "eu_notify",
            "Record EU notification",
            _eu_notify,
            EUNotifyForm,
            show_if=lambda r, o: o.eu_serious,
            initial=lambda r, o: {"notified_at": timezone.now()},
        ),
        ObjectAction(
            "eu_clear",
            "Withdraw EU classification",
            _eu_clear,
            ReasonForm,
            show_if=lambda r, o: o.eu_serious and o.eu_authority_notified_at is None,
        ),
        ObjectAction(
            "notify_parties",
            "Inform stakeholder parties",
            _notify_parties,
            forms.Form,
            "E-mail every party of the affected use cases not informed yet.",
            show_if=lambda r, o: o.stakeholder_notices.filter(notified_at__isnull=True).exists(),
        ),
        ObjectAction(
            "ack",
            "Record party notice or acknowledgement",
            _ack,
            AckForm,
            show_if=lambda r, o: o.stakeholder_notices.exists(),
            initial=_notice_choices,
        ),
    ]
