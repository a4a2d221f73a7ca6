"""Admin inbox: each staff user sees their own notifications (superusers see all)."""

from django.contrib import admin, messages

from accountability.models import Notification
from accountability.services.notifications import notification_mark_read


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "kind", "project", "recipient", "created_at", "is_read"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "body"]
    list_select_related = ["project", "recipient"]
    readonly_fields = ["recipient", "project", "kind", "subject", "body", "url", "read_at", "created_at", "dedupe_key"]
    actions = ["mark_read"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(recipient=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff and (
            obj is None or request.user.is_superuser or obj.recipient_id == request.user.pk
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="read")
    def is_read(self, obj):
        return obj.read_at is not None

    @admin.action(description="Mark as read")
    def mark_read(self, request, queryset):
        count = 0
        for note in queryset.filter(recipient=request.user, read_at__isnull=True):
            notification_mark_read(actor=request.user, notification=note)
            count += 1
        self.message_user(request, f"{count} notification(s) marked read.", messages.SUCCESS)
