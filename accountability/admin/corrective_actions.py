"""Admin page of corrective actions: their status changes through a button that calls the service."""

from __future__ import annotations

from django.contrib import admin

from accountability.models import CorrectiveAction
from accountability.permissions import Perm
from accountability.services import incident_actions as action_svc

from .base import ObjectAction, ProjectScopedAdmin, linked
from .incident_forms import StatusForm


@admin.register(CorrectiveAction)
class CorrectiveActionAdmin(ProjectScopedAdmin):
    view_perm = Perm.INCIDENT_VIEW
    edit_perm = Perm.INCIDENT_MANAGE
    list_display = ["public_id", "incident_link", "description", "owner_name", "due_date", "status", "overdue"]
    list_filter = ["status", "due_date", "project"]
    search_fields = ["description", "owner_name"]
    list_select_related = ["incident", "project"]
    readonly_fields = [
        "incident",
        "description",
        "owner",
        "owner_name",
        "due_date",
        "status",
        "status_note",
        "completed_at",
        "overdue_notified_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # added on the incident (Add a corrective action)

    def has_change_permission(self, request, obj=None):
        return False  # the status changes through its action button

    @admin.display(description="incident")
    def incident_link(self, obj):
        return linked(obj.incident, obj.incident.public_id)

    @admin.display(boolean=True)
    def overdue(self, obj):
        return obj.is_overdue

    def _status(self, request, obj, data):
        action_svc.corrective_action_set_status(actor=request.user, action=obj, **data)
        return f"{obj.public_id} is now {data['status']}."

    object_actions = [
        ObjectAction(
            "status",
            "Change status",
            _status,
            StatusForm,
            "Cancelling, or reopening a done action, needs a note.",
            show_if=lambda r, o: o.status != CorrectiveAction.Status.CANCELLED,
        )
    ]
