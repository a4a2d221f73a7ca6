"""Read-only inlines of the incident and schedule pages: rows change only through the parent's actions."""

from __future__ import annotations

from django.contrib import admin

from accountability.models import CorrectiveAction, IncidentEvent, IncidentStakeholderNotice

from .base import linked


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on a parent the user may already view; they change only through the parent's actions."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    model = IncidentEvent
    verbose_name_plural = "timeline"
    fields = ["at", "get_kind_display", "actor_label", "move", "message", "ledger_entry_id"]
    readonly_fields = fields
    ordering = ["at", "id"]

    @admin.display(description="kind")
    def get_kind_display(self, obj):
        return obj.get_kind_display()

    @admin.display(description="status")
    def move(self, obj):
        return f"{obj.from_status or '·'} → {obj.to_status}" if obj.to_status else ""


class ActionInline(ReadOnlyInline):
    model = CorrectiveAction
    fields = ["action_link", "description", "owner_name", "due_date", "status", "overdue"]
    readonly_fields = fields

    @admin.display(description="action")
    def action_link(self, obj):
        return linked(obj, obj.public_id)

    @admin.display(boolean=True)
    def overdue(self, obj):
        return obj.is_overdue


class NoticeInline(ReadOnlyInline):
    model = IncidentStakeholderNotice
    verbose_name_plural = "stakeholder coordination"
    fields = ["stakeholder", "due_at", "notified_at", "channel", "late", "acknowledged_at", "acknowledged_by_name"]
    readonly_fields = fields

    @admin.display(boolean=True)
    def late(self, obj):
        return obj.is_late
