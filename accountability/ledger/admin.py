"""Read-only ledger admin: entries (with their explanation, document, proof and verification status),
the pending queue, checkpoints, verification runs, signing keys and metrics. Nobody can add, change or
delete ledger rows here; scope grants and model keys change only through their services."""

from __future__ import annotations

import base64
import json

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from accountability.admin.base import ObjectAction, ProjectScopedAdmin
from accountability.exceptions import AccountabilityError
from accountability.models import Project
from accountability.permissions import Perm

from . import selectors as sel
from .models import (
    Checkpoint,
    LedgerEntry,
    LedgerHead,
    ModelKey,
    PendingEntry,
    ScopeGrant,
    SigningKey,
    VerificationRun,
)
from .offline import merkle
from .schema import parse_key
from .selectors._scope import can_read, ledger_projects, scope_q
from .services import grants as grant_svc
from .services import model_keys as model_key_svc
from .services.verification import ledger_verify


def _pre(data) -> str:
    return format_html('<pre style="white-space: pre-wrap; max-width: 70em">{}</pre>', data)


class ReadOnlyLedgerAdmin(admin.ModelAdmin):
    """Visible to staff who may read some project's ledger; rows limited to those projects."""

    def _reader(self, request) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        keys = ledger_projects(user)
        return keys is None or bool(keys)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not hasattr(self.model, "project_key"):
            return qs
        return qs.filter(scope_q(ledger_projects(request.user)))

    def has_module_permission(self, request):
        return self._reader(request)

    def has_view_permission(self, request, obj=None):
        if not self._reader(request):
            return False
        return obj is None or not hasattr(obj, "project_key") or can_read(request.user, obj.project_key)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


class ActorFilter(admin.SimpleListFilter):
    title = "actor"
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        if model_admin.model is LedgerEntry:  # the log: one index probe per actor, not a DISTINCT over it
            refs = sel.actor_refs(request.user, limit=100)
        else:  # the queue is short-lived and has no actor index
            qs = model_admin.get_queryset(request).values_list("actor_ref", flat=True)
            refs = qs.order_by("actor_ref").distinct()[:100]
        return [(ref, ref if len(ref) < 40 else ref[:37] + "…") for ref in refs]

    def queryset(self, request, queryset):
        return queryset.filter(actor_ref=self.value()) if self.value() else queryset


class ProjectFilter(admin.SimpleListFilter):
    title = "project"
    parameter_name = "project"

    def lookups(self, request, model_admin):
        # The projects the user may read, from the project table: a DISTINCT over the log read every
        # entry (and, ordered by seq, returned one choice per entry).
        keys = ledger_projects(request.user)
        if keys is None:
            keys = set(Project.objects.values_list("key", flat=True))
        return [("-", "(ledger-wide)"), *((k, k) for k in sorted(keys))]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset if not value else queryset.filter(project_key="" if value == "-" else value)


class PayloadFilter(admin.SimpleListFilter):
    title = "payload"
    parameter_name = "payload"

    def lookups(self, request, model_admin):
        return [("kept", "kept"), ("purged", "purged (retention)")]

    def queryset(self, request, queryset):
        if self.value() == "purged":
            return queryset.filter(payload__isnull=True)
        if self.value() == "kept":
            return queryset.filter(payload__isnull=False)
        return queryset


class CappedPaginator(Paginator):
    """Pages counted only up to ``CAP`` rows (``capped`` says the list is longer; the ledger's
    pagination template then says "more than"): a COUNT over a million entries took 0.35-1.2 s for
    every page shown, and a busy log signs up to four checkpoints a second."""

    CAP = 10_000

    capped = False

    @cached_property
    def count(self) -> int:
        found = self.object_list.order_by()[: self.CAP + 1].count()
        self.capped = found > self.CAP
        return min(found, self.CAP)


class LogPaginator(CappedPaginator):
    """``CappedPaginator`` for the log, whose whole size is the head's (one row)."""

    @cached_property
    def count(self) -> int:
        if not self.object_list.query.where:  # the whole log, as its head counts it
            head = LedgerHead.objects.filter(pk=1).values_list("size", flat=True).first()
            return head or 0
        return super().count


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyLedgerAdmin):
    list_display = [
        "seq",
        "entry_id",
        "entry_type",
        "project_key",
        "actor_ref",
        "action_type",
        "occurred_at",
        "oversight",
        "payload_state",
        "attribution",
    ]
    list_filter = [
        "entry_type",
        ActorFilter,
        ProjectFilter,
        ("occurred_at", admin.DateFieldListFilter),
        "oversight",
        PayloadFilter,
    ]
    search_fields = ["entry_id", "trace_id", "task_id", "actor_ref"]  # exact lookups (get_search_results)
    search_help_text = (
        "An entry id, a trace id, a task id, or an actor: a model id, a system component, an organisation, "
        "a person's username, or kind:id as listed. Matched exactly, through the log's indexes."
    )
    # No date_hierarchy: its year list is a DISTINCT over every entry; the occurred_at filter needs no query.
    list_per_page = 100
    paginator = LogPaginator
    show_full_result_count = False  # counting millions of rows for every page is not worth it
    fields = ["explanation", "summary", "document", "corrections", "integrity", "proof", "leaf"]
    readonly_fields = fields
    change_list_template = "admin/ledger/ledgerentry/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("payload", "payload_salt", "leaf_bytes")

    def get_search_results(self, request, queryset, search_term):
        """Exact lookups through the log's indexes (``entry_search_q``), never a substring scan."""
        if not search_term.strip():
            return queryset, False
        return queryset.filter(sel.entry_search_q(search_term)), False

    def get_urls(self):
        view = self.admin_site.admin_view(self.metrics_view)
        return [path("metrics/", view, name="ledger_ledgerentry_metrics"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "integrity": sel.chain_integrity(),
            "metrics_url": reverse("admin:ledger_ledgerentry_metrics"),
        }
        return super().changelist_view(request, extra_context)

    def metrics_view(self, request):
        """The seed's metrics and the verification status; POST runs an incremental verification."""
        if not self._reader(request):
            return HttpResponseRedirect(reverse("admin:index"))
        if request.method == "POST":
            try:
                result = ledger_verify(actor=request.user, incremental=request.POST.get("mode") != "full")
            except AccountabilityError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                report = result.report
                level = messages.SUCCESS if report.ok else messages.ERROR
                text = f"Verified {report.checked} entries to size {report.size}: "
                text += "OK" if report.ok else f"FAILED, first bad entry {report.first_problem}"
                self.message_user(request, text, level)
            return HttpResponseRedirect(request.path)
        metrics = sel.ledger_metrics(request.user, days=int(request.GET.get("days", 30) or 30))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Ledger metrics and verification",
            "metrics": metrics,
            "metrics_json": json.dumps(metrics, indent=2, default=str),
            "runs": VerificationRun.objects.all()[:10],
        }
        return TemplateResponse(request, "admin/ledger/metrics.html", context)

    @admin.display(description="payload")
    def payload_state(self, obj):
        return "purged" if obj.redacted_at else "kept"

    @admin.display(description="attribution")
    def attribution(self, obj):
        return "complete" if not obj.attribution_gaps else obj.attribution_gaps

    @admin.display(description="plain-language explanation")
    def explanation(self, obj):
        return sel.entry_explanation(obj.viewer, obj.entry_id)["text"]

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj = LedgerEntry.objects.get(pk=obj.pk)  # the change page needs the deferred columns
            obj.viewer = request.user  # the explanation resolves names as this reader may see them
        return obj

    @admin.display(description="entry")
    def summary(self, obj):
        rows = [
            ("seq", obj.seq),
            ("type", obj.entry_type),
            ("project", obj.project_key or "(ledger-wide)"),
            ("occurred / recorded", f"{obj.occurred_at:%Y-%m-%d %H:%M:%S} / {obj.recorded_at:%Y-%m-%d %H:%M:%S}"),
            ("retention", f"{obj.retention}" + (f", expires {obj.expires_at:%Y-%m-%d}" if obj.expires_at else "")),
            ("purged", f"{obj.redacted_at:%Y-%m-%d} by {obj.redacted_by}" if obj.redacted_at else "no"),
        ]
        return format_html_join("", "<div><b>{}</b>: {}</div>", rows)

    @admin.display(description="document (as written)")
    def document(self, obj):
        doc = obj.document
        return "Purged under the retention schedule." if doc is None else _pre(json.dumps(doc, indent=2))

    @admin.display(description="corrections")
    def corrections(self, obj):
        items = sel.corrections_of(obj.entry_id)
        if not items:
            return "none"
        links = [
            (
                reverse("admin:ledger_ledgerentry_change", args=[c["seq"]]) if c["seq"] is not None else "#",
                c["entry_id"],
                c.get("reason", ""),
            )
            for c in items
        ]
        return format_html_join("", '<div><a href="{}">{}</a>: {}</div>', links)

    @admin.display(description="integrity")
    def integrity(self, obj):
        rows = [
            ("hash", bytes(obj.entry_hash).hex()),
            ("previous_hash", bytes(obj.previous_hash).hex()),
            ("payload_hash", bytes(obj.payload_hash).hex()),
        ]
        return format_html_join("", "<div><b>{}</b> <code>{}</code></div>", rows)

    @admin.display(description="inclusion proof")
    def proof(self, obj):
        inclusion = sel.entry_inclusion(obj)
        if inclusion is None:
            return "Not yet covered by a signed checkpoint."
        cp = inclusion.checkpoint
        ok = merkle.verify_inclusion(obj.seq, cp.tree_size, bytes(obj.entry_hash), inclusion.path, bytes(cp.root))
        status = "verifies ✓" if ok else "DOES NOT VERIFY ✗"
        return format_html(
            "Included in checkpoint {} ({} hashes): {}{}",
            inclusion.checkpoint.tree_size,
            len(inclusion.path),
            status,
            _pre(inclusion.tlog_proof),
        )

    @admin.display(description="leaf bytes (what the tree commits to)")
    def leaf(self, obj):
        return _pre(bytes(obj.leaf_bytes).decode())


@admin.register(PendingEntry)
class PendingEntryAdmin(ReadOnlyLedgerAdmin):
    list_display = ["id", "entry_id", "entry_type", "project_key", "actor_ref", "action_type", "received_at"]
    list_filter = ["entry_type", ActorFilter, ProjectFilter]
    exclude = ["payload", "payload_salt", "payload_hash"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyLedgerAdmin):
    list_display = ["tree_size", "root_b64", "key_id", "created_at"]
    fields = ["tree_size", "root_b64", "key_id", "created_at", "signed_note"]
    readonly_fields = fields
    # No date_hierarchy and no full count: a busy log signs up to four checkpoints a second.
    list_per_page = 100
    paginator = CappedPaginator
    show_full_result_count = False
    search_fields = ["tree_size"]  # exact, through its unique index (get_search_results)
    search_help_text = "A tree size: the checkpoint signed at that size."

    def get_search_results(self, request, queryset, search_term):
        """The checkpoint at a tree size (its unique index); any other term matches nothing."""
        term = search_term.strip()
        if not term:
            return queryset, False
        size = parse_key(term)
        return (queryset.none() if size is None else queryset.filter(tree_size=size)), False

    @admin.display(description="root")
    def root_b64(self, obj):
        return base64.b64encode(bytes(obj.root)).decode()

    @admin.display(description="signed note")
    def signed_note(self, obj):
        return _pre(obj.note)


@admin.register(VerificationRun)
class VerificationRunAdmin(ReadOnlyLedgerAdmin):
    list_display = [
        "finished_at",
        "mode",
        "status",
        "chain_integrity",
        "from_size",
        "size",
        "first_bad",
        "seconds",
        "actor",
    ]
    list_filter = ["ok", "mode"]
    exclude = ["root", "compact_range", "last_hash"]

    @admin.display(description="status", boolean=True)
    def status(self, obj):
        return obj.ok

    @admin.display(description="first bad entry")
    def first_bad(self, obj):
        if obj.first_bad_seq is None:
            return "—"
        return f"seq {obj.first_bad_seq} {obj.first_bad_entry_id} ({obj.first_bad_reason})"


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyLedgerAdmin):
    list_display = ["name", "key_id", "first_used_at", "last_used_at", "vkey"]


class ScopeGrantForm(forms.ModelForm):
    action_types = forms.CharField(help_text="Comma-separated action types; a trailing .* allows a family (data.*).")

    class Meta:
        model = ScopeGrant
        fields = ["project", "model_id", "action_types", "reason", "expires_at"]

    def clean_action_types(self):
        return [a.strip() for a in self.cleaned_data["action_types"].split(",") if a.strip()]


class RevokeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


def _revoke_grant(model_admin, request, obj, data) -> str:
    grant_svc.scope_grant_revoke(actor=request.user, grant=obj, reason=data["reason"])
    return f"Scope of {obj.model_id} revoked."


class AddedThenRevokedAdmin(ProjectScopedAdmin):
    """Rows a service adds and later revokes with a reason (scope grants, model keys): never edited or
    deleted here. ``entered_fields`` are what the add form enters, read-only once the row exists."""

    entered_fields: list[str] = []

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # never edited: revoke it and add a new one
            return [*self.entered_fields, *self.readonly_fields]
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)


def revoke_action(revoke) -> ObjectAction:
    """The Revoke button of an ``AddedThenRevokedAdmin``, shown while the row is live."""
    return ObjectAction("revoke", "Revoke", revoke, RevokeForm, show_if=lambda request, obj: obj.revoked_at is None)


@admin.register(ScopeGrant)
class ScopeGrantAdmin(AddedThenRevokedAdmin):
    form = ScopeGrantForm
    edit_perm = Perm.PLAN_APPROVE
    list_display = ["model_id", "project_key", "scopes", "granted_by", "granted_at", "expires_at", "revoked_at"]
    list_filter = ["project", "revoked_at"]
    search_fields = ["model_id"]
    readonly_fields = ["granted_by", "granted_at", "revoked_at", "revoked_by", "revoke_reason"]
    entered_fields = ["project", "model_id", "action_types", "reason", "expires_at"]
    object_actions = [revoke_action(_revoke_grant)]

    def call_service(self, request, obj, data, changed):
        return grant_svc.scope_grant_create(
            actor=request.user,
            project=data["project"],
            model_id=data["model_id"],
            action_types=data["action_types"],
            reason=data.get("reason", ""),
            expires_at=data.get("expires_at"),
        )

    @admin.display(description="action types")
    def scopes(self, obj):
        return ", ".join(obj.action_types)


class ModelKeyForm(forms.ModelForm):
    # Wider than the column: the service, not the form, says what is wrong with a pasted key.
    public_key = forms.CharField(
        max_length=200, help_text="The model's raw Ed25519 public key (32 bytes), standard base64."
    )

    class Meta:
        model = ModelKey
        fields = ["project", "model_id", "public_key", "reason"]


class KeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("revoked", "revoked")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


def _revoke_model_key(model_admin, request, obj, data) -> str:
    model_key_svc.model_key_revoke(actor=request.user, key=obj, reason=data["reason"])
    return f"Key {obj.kid} of {obj.model_id} revoked."


@admin.register(ModelKey)
class ModelKeyAdmin(AddedThenRevokedAdmin):
    """AI models' signing keys: registered through ``model_key_register``, revoked with a reason, never
    edited or deleted. Visible where the user reads the ledger (history.view), as the API lists them."""

    form = ModelKeyForm
    view_perm = Perm.HISTORY_VIEW
    edit_perm = Perm.PLAN_APPROVE
    list_display = ["model_id", "project_key", "kid", "active", "registered_by", "registered_at", "revoked_at"]
    # Only the projects that have keys the user may see, not every project's name.
    list_filter = [("project", admin.RelatedOnlyFieldListFilter), KeyStateFilter]
    search_fields = ["model_id", "^kid"]
    search_help_text = "A model id (or part of one), or the beginning of a key id."
    list_select_related = ["project", "registered_by"]
    readonly_fields = ["kid", "registered_by", "registered_at", "revoked_at", "revoked_by", "revoke_reason"]
    entered_fields = ["project", "model_id", "public_key", "reason"]
    object_actions = [revoke_action(_revoke_model_key)]

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(self.entered_fields)
        return ["project", "model_id", "kid", "public_key", "reason", *self.readonly_fields[1:]]

    def call_service(self, request, obj, data, changed):
        return model_key_svc.model_key_register(
            actor=request.user,
            project=data["project"],
            model_id=data["model_id"],
            public_key=data["public_key"],
            reason=data.get("reason", ""),
        )

    @admin.display(description="active", boolean=True)
    def active(self, obj):
        return obj.revoked_at is None
