"""Admin pages of outgoing webhooks and their delivery log (governance staff of the project)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from accountability.exceptions import AccountabilityError, SecretUndecryptable
from accountability.models import Webhook, WebhookDelivery
from accountability.permissions import Perm
from accountability.services import webhooks as svc

from .base import ObjectAction, ProjectScopedAdmin, linked


class WebhookForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in svc.EVENT_KINDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = Webhook
        fields = ["project", "name", "url", "events", "is_active"]


@admin.register(Webhook)
class WebhookAdmin(ProjectScopedAdmin):
    form = WebhookForm
    view_perm = Perm.WEBHOOK_MANAGE
    edit_perm = Perm.WEBHOOK_MANAGE
    list_display = ["public_id", "name", "project_key", "url", "subscribed", "is_active"]
    list_filter = ["is_active", "project"]
    search_fields = ["name", "url"]
    list_select_related = ["project"]

    def get_fields(self, request, obj=None):
        base = ["project", "name", "url", "events", "is_active"]
        return base if obj is None else [*base, "secret", "signing"]

    def get_readonly_fields(self, request, obj=None):
        return ["is_active"] if obj is None else ["project", "secret", "signing"]

    @admin.display(description="events")
    def subscribed(self, obj):
        return ", ".join(obj.events) or "all"

    @admin.display(description="secret")
    def secret(self, obj):
        # Decrypted for staff, who give it to the receiver; the column holds only the Fernet token.
        try:
            return obj.secret
        except SecretUndecryptable:
            return "Cannot be decrypted with ICDEV_WEBHOOK_SECRET_KEYS: rotate it and give the receiver the new one."

    @admin.display(description="how receivers verify")
    def signing(self, obj):
        return format_html(
            "<code>{}</code>; hex = HMAC-SHA256(secret, <code>{}</code>). Drop duplicates by <code>{}</code>.",
            "X-Icdev-Signature: t=<unix time>,v1=<hex>",
            "<unix time>.<raw body>",
            "X-Icdev-Delivery",
        )

    def call_service(self, request, obj, data, changed):
        if obj is None:
            return svc.webhook_create(
                actor=request.user, project=data["project"], name=data["name"], url=data["url"], events=data["events"]
            )
        fields = {k: data[k] for k in changed if k in ("name", "url", "events", "is_active")}
        return svc.webhook_update(actor=request.user, webhook=obj, **fields) if fields else obj

    def _rotate(self, request, obj, data):
        svc.webhook_rotate_secret(actor=request.user, webhook=obj)
        return "New secret generated; give it to the receiver."

    def _ping(self, request, obj, data):
        delivery = svc.webhook_send_test(actor=request.user, webhook=obj)
        return f"Ping queued (delivery {delivery.pk}); see the delivery log."

    object_actions = [
        ObjectAction("ping", "Send a test ping", _ping, show_if=lambda r, o: o.is_active),
        ObjectAction("rotate", "Rotate the secret", _rotate, help_text="The old secret stops working at once."),
    ]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ProjectScopedAdmin):
    view_perm = Perm.WEBHOOK_MANAGE
    edit_perm = Perm.WEBHOOK_MANAGE
    list_display = ["created_at", "event", "webhook_link", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status", "event", "project"]
    search_fields = ["event", "dedupe_key"]
    list_select_related = ["webhook", "project"]
    readonly_fields = [
        "webhook",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "log",
        "body",
        "dedupe_key",
    ]
    fields = readonly_fields
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="webhook")
    def webhook_link(self, obj):
        return linked(obj.webhook, obj.webhook.public_id)

    @admin.display(description="attempts")
    def log(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.attempt_log, indent=2))

    @admin.display(description="payload")
    def body(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    def _retry(self, request, obj, data):
        svc.webhook_delivery_retry(actor=request.user, delivery=obj)
        return "Retry queued."

    object_actions = [
        ObjectAction("retry", "Retry now", _retry, show_if=lambda r, o: o.status != WebhookDelivery.Status.DELIVERED)
    ]

    @admin.action(description="Retry the selected deliveries now")
    def retry_now(self, request, queryset):
        done = 0
        for delivery in queryset.exclude(status=WebhookDelivery.Status.DELIVERED):
            try:
                svc.webhook_delivery_retry(actor=request.user, delivery=delivery)
                done += 1
            except AccountabilityError as exc:
                self.message_user(request, f"{delivery.pk}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{done} deliveries queued again.", messages.SUCCESS)
