"""Admin of stored audits: runs and check results, read-only and project-scoped, with links from each
failing result down to the failing objects, and buttons that run a new audit through the service."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accountability.admin.base import ObjectAction, ProjectScopedAdmin
from accountability.exceptions import AccountabilityError
from accountability.models import Project
from accountability.permissions import Perm, has_perm, visible_projects

from . import services as svc
from .models import AuditRun, CheckResult

STATUS_COLOURS = {"pass": "#1a7f37", "partial": "#9a6700", "fail": "#cf222e", "not_applicable": "#57606a"}
GATE_COLOURS = {"passed": "#1a7f37", "warnings": "#9a6700", "blocked": "#cf222e", "not_evaluated": "#57606a"}


def _badge(text: str, colour: str):
    return format_html('<strong style="color:{}">{}</strong>', colour, text)


def _link(obj: dict):
    if obj.get("admin_url"):
        return format_html('<a href="{}">{}</a>', obj["admin_url"], obj["id"])
    return obj["id"]


class _ReadOnlyAudit(ProjectScopedAdmin):
    """Stored audits are evidence: nobody adds, changes or deletes them from the admin."""

    view_perm = Perm.AUDIT_VIEW
    edit_perm = Perm.AUDIT_RUN

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_history_or_change_history_permission(self, request, obj=None):
        return False

    def history_view(self, request, object_id, extra_context=None):
        # No simple-history table (append-only evidence): Django's plain admin log view.
        return admin.ModelAdmin.history_view(self, request, object_id, extra_context)


class RunAuditForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.none(), help_text="A complete audit of this project.")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = visible_projects(user, Perm.AUDIT_RUN).order_by("key")


class CheckResultInline(admin.TabularInline):
    model = CheckResult
    fields = ["check_link", "aliases_display", "severity", "status_badge", "summary"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="check")
    def check_link(self, obj):
        url = reverse("admin:assessors_checkresult_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.check_id)

    @admin.display(description="aliases")
    def aliases_display(self, obj):
        return ", ".join(obj.aliases) or "—"

    @admin.display(description="status")
    def status_badge(self, obj):
        return _badge(obj.get_status_display(), STATUS_COLOURS[obj.status])


@admin.register(AuditRun)
class AuditRunAdmin(_ReadOnlyAudit):
    list_display = [
        "public_id_display",
        "project_key",
        "evaluated_at",
        "score",
        "checks_passed",
        "checks_partial",
        "checks_failed",
        "checks_not_applicable",
        "gate_badge",
        "trigger",
        "actor_label",
    ]
    list_filter = ["gate_status", "trigger", "project__key"]
    list_select_related = ["project"]
    search_fields = ["project__key", "actor_label", "ledger_entry_id"]
    date_hierarchy = "evaluated_at"
    inlines = [CheckResultInline]
    change_list_template = "admin/assessors/auditrun/change_list.html"
    fields = [
        "public_id_display",
        "project_key",
        "evaluated_at",
        "trigger",
        "actor_label",
        "duration_ms",
        "score",
        "counts",
        "gate_badge",
        "gate_display",
        "coverage_display",
        "gaps_display",
        "selection",
        "versions",
        "ledger_entry_id",
    ]
    readonly_fields = fields

    def run_again(self, request, obj, data):
        run = svc.audit_run(actor=request.user, project=obj.project, trigger=AuditRun.Trigger.ADMIN)
        return f"Audit {run.public_id} stored: score {run.score}, gate {run.get_gate_status_display().lower()}."

    object_actions = [
        ObjectAction(
            "run_again",
            "Run a new audit of this project",
            run_again,
            help_text="Evaluates every check now and stores a new run (with its ledger entry).",
            show_if=lambda request, obj: has_perm(request.user, obj.project, Perm.AUDIT_RUN),
        )
    ]

    def get_urls(self):
        return [
            path("run/", self.admin_site.admin_view(self.run_view), name="assessors_auditrun_run"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if self._any_project(request, Perm.AUDIT_RUN):
            extra_context["icdev_run_audit_url"] = reverse("admin:assessors_auditrun_run")
        return super().changelist_view(request, extra_context)

    def run_view(self, request):
        """Pick a project and run a complete audit of it (the same service as the CLI and API)."""
        if not self._any_project(request, Perm.AUDIT_RUN):
            raise PermissionDenied
        form = RunAuditForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                run = svc.audit_run(actor=request.user, project=form.cleaned_data["project"], trigger="admin")
            except AccountabilityError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"Audit {run.public_id} stored: score {run.score}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:assessors_auditrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "action": ObjectAction("run", "Run an audit", self.run_view, help_text="A complete audit, stored."),
            "title": "Run an audit",
            "change_url": reverse("admin:assessors_auditrun_changelist"),
            "original": "Run an audit",
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/icdev/object_action.html", context)

    @admin.display(description="run", ordering="pk")
    def public_id_display(self, obj):
        return obj.public_id

    @admin.display(description="gate", ordering="gate_status")
    def gate_badge(self, obj):
        return _badge(obj.get_gate_status_display(), GATE_COLOURS[obj.gate_status])

    @admin.display(description="checks")
    def counts(self, obj):
        return (
            f"{obj.checks_total}: {obj.checks_passed} pass, {obj.checks_partial} partial, "
            f"{obj.checks_failed} fail, {obj.checks_not_applicable} not applicable"
        )

    @admin.display(description="gate conditions")
    def gate_display(self, obj):
        if not obj.gate:
            return "—"
        triggered = obj.gate.get("blocking", []) + obj.gate.get("warnings", [])
        if not triggered:
            return "No condition triggered."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong> {}: {} <em>({})</em> {}</li>",
                (
                    (
                        c["kind"].upper(),
                        c["title"],
                        c["detail"],
                        c["citation"],
                        format_html_join(", ", "{}", ((_link(o),) for o in c["objects"])),
                    )
                    for c in triggered
                ),
            ),
        )

    @admin.display(description="coverage per framework")
    def coverage_display(self, obj):
        rows = []
        for fw in obj.coverage:
            if fw["status"] != "assessed":
                rows.append((fw["framework"], fw["title"], "not applicable", fw.get("reason", "")))
                continue
            req = fw["requirements"]
            rows.append(
                (
                    fw["framework"],
                    fw["title"],
                    f"{req['satisfied']}/{req['assessed']} requirements met "
                    f"({fw['coverage_pct']} %), score {fw['score']}",
                    f"{req['not_assessed']} not assessed by the portal",
                )
            )
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} · {}: {} — {}</li>", rows))

    @admin.display(description="gaps, most severe first")
    def gaps_display(self, obj):
        if not obj.gaps:
            return "None."
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>[{}] <strong>{}</strong> {}: {}<br><em>{}</em></li>",
                ((g["severity"], g["check"], g["status"], g["summary"], g["remediation"]) for g in obj.gaps),
            ),
        )

    @admin.display(description="selection")
    def selection(self, obj):
        parts = []
        if obj.requested_frameworks:
            parts.append("frameworks " + ", ".join(obj.requested_frameworks))
        if obj.requested_checks:
            parts.append("checks " + ", ".join(obj.requested_checks))
        return "; ".join(parts) or "complete audit"

    @admin.display(description="catalogue")
    def versions(self, obj):
        shown = ", ".join(f"{code} {v}" for code, v in obj.framework_versions.items())
        return f"{shown} (digest {obj.catalogue_digest[:12]}…)"


@admin.register(CheckResult)
class CheckResultAdmin(_ReadOnlyAudit):
    list_display = ["check_id", "aliases_display", "project_key", "run_link", "severity", "status_badge", "summary"]
    list_filter = ["status", "severity", "framework", "check_id", "project__key"]
    list_select_related = ["project", "run"]
    search_fields = ["check_id", "aliases", "title", "summary"]
    fields = [
        "check_id",
        "aliases_display",
        "title",
        "project_key",
        "run_link",
        "status_badge",
        "severity",
        "summary",
        "failing_display",
        "parameters_display",
        "credits_display",
        "versions",
        "remediation",
    ]
    readonly_fields = fields

    @admin.display(description="aliases")
    def aliases_display(self, obj):
        return ", ".join(obj.aliases) or "—"

    @admin.display(description="run", ordering="run")
    def run_link(self, obj):
        url = reverse("admin:assessors_auditrun_change", args=[obj.run_id])
        return format_html('<a href="{}">{}</a>', url, obj.run.public_id)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return _badge(obj.get_status_display(), STATUS_COLOURS[obj.status])

    @admin.display(description="failing objects")
    def failing_display(self, obj):
        failing = obj.evidence.get("failing", [])
        if not failing:
            return "None."
        items = format_html_join(
            "",
            "<li>{} <strong>{}</strong>: {} {}</li>",
            (
                (
                    _link(f),
                    f["status"],
                    f["reason"],
                    format_html_join(", ", "{}", ((_link(r),) for r in f.get("related", []))),
                )
                for f in failing
            ),
        )
        more = obj.evidence.get("failing_total", 0) - len(failing)
        return format_html("<ul>{}</ul>{}", items, f"… and {more} more" if more > 0 else "")

    @admin.display(description="parameters used")
    def parameters_display(self, obj):
        params = obj.evidence.get("parameters", {})
        if not params:
            return "—"
        label = {"F": "framework text", "D": "portal default"}
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} = {} ({}{})</li>",
                (
                    (name, p["value"], label[p["provenance"]], f"; {p['source']}" if p.get("source") else "")
                    for name, p in params.items()
                ),
            ),
        )

    @admin.display(description="credits")
    def credits_display(self, obj):
        return ", ".join(obj.credits)

    @admin.display(description="versions")
    def versions(self, obj):
        return f"check v{obj.check_version}, {obj.framework} catalogue {obj.framework_version}"
