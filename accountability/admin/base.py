"""Admin building blocks: project scoping, service-backed add/change forms, and object actions
(buttons on the change page that open a small form and call one service)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from accountability.exceptions import AccountabilityError, NotFound, ValidationFailed
from accountability.models import Project
from accountability.permissions import Perm, has_perm, is_unrestricted, visible_projects


def add_domain_errors(form: forms.Form, exc: AccountabilityError) -> None:
    """Show a domain error on the form: field messages where the field exists, else at the top."""
    if isinstance(exc, ValidationFailed):
        for field, msgs in exc.errors.items():
            for msg in msgs:
                if field in form.fields:
                    form.add_error(field, msg)
                else:
                    form.add_error(None, msg if field == "non_field_errors" else f"{field}: {msg}")
    else:
        form.add_error(None, exc.message)


@dataclass
class ObjectAction:
    """A change-page button: ``run(model_admin, request, obj, cleaned_data)`` calls a service and returns a
    message (``run`` is usually a method of the ModelAdmin, declared in its class body)."""

    name: str
    label: str
    run: Callable
    form_class: type[forms.Form] = forms.Form
    help_text: str = ""
    show_if: Callable | None = None  # (request, obj) -> bool
    initial: Callable | None = None  # (request, obj) -> dict
    form_kwargs: Callable | None = None  # (request, obj) -> extra keyword arguments of the form


class ProjectScopedAdmin(SimpleHistoryAdmin):
    """Rows are visible only within the user's projects; nothing is ever deleted from the admin;
    history needs the history permission of the row's project; revert is disabled (it would bypass
    the services)."""

    project_path = "project"  # how to reach the Project from a row
    view_perm = Perm.REGISTRY_VIEW
    edit_perm = Perm.REGISTRY_EDIT
    object_actions: list[ObjectAction] = []
    change_form_template = "admin/icdev/change_form.html"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    # --- scoping -----------------------------------------------------------------------------------
    def project_of(self, obj) -> Project:
        target = obj
        for part in self.project_path.split("__"):
            target = getattr(target, part)
        return target

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if is_unrestricted(request.user):
            return qs
        return qs.filter(**{f"{self.project_path}__in": visible_projects(request.user, self.view_perm)})

    def _any_project(self, request, perm) -> bool:
        return is_unrestricted(request.user) or visible_projects(request.user, perm).exists()

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and self._any_project(request, self.view_perm)

    def has_view_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        if obj is None:
            return self._any_project(request, self.view_perm)
        return has_perm(request.user, self.project_of(obj), self.view_perm)

    def has_add_permission(self, request):
        return request.user.is_staff and self._any_project(request, self.edit_perm)

    def has_change_permission(self, request, obj=None):
        if not request.user.is_staff:
            return False
        if obj is None:
            return self._any_project(request, self.edit_perm)
        return has_perm(request.user, self.project_of(obj), self.edit_perm)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_history_or_change_history_permission(self, request, obj=None):
        return obj is not None and has_perm(request.user, self.project_of(obj), Perm.HISTORY_VIEW)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Project and not is_unrestricted(request.user):
            kwargs["queryset"] = visible_projects(request.user, self.edit_perm)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- service-backed add / change ---------------------------------------------------------------
    def call_service(self, request, obj, data: dict, changed: list[str]):
        """Create (obj is None) or change the row through its service; return the saved row."""
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceForm(base):
            service_result = None

            def _post_clean(self):
                super()._post_clean()
                if self.errors:
                    return
                try:
                    with transaction.atomic():
                        self.service_result = model_admin.call_service(
                            request, obj, self.cleaned_data, self.changed_data
                        )
                except AccountabilityError as exc:
                    add_domain_errors(self, exc)

        return ServiceForm

    def save_model(self, request, obj, form, change):
        # The service already wrote the row (and its history and ledger entry) during validation.
        result = form.service_result
        if result is not None:
            obj.pk = result.pk
            obj.__dict__.update({k: v for k, v in result.__dict__.items() if not k.startswith("_state")})

    def save_related(self, request, form, formsets, change):
        """Related rows change only through services, never through admin inlines."""

    # --- object actions ----------------------------------------------------------------------------
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/do/<str:action_name>/",
                self.admin_site.admin_view(self.object_action_view),
                name="{}_{}_object_action".format(*info),
            ),
            *super().get_urls(),
        ]

    def visible_object_actions(self, request, obj):
        return [a for a in self.object_actions if a.show_if is None or a.show_if(request, obj)]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["icdev_object_actions"] = [
                (
                    a.label,
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_object_action", args=[obj.pk, a.name]),
                )
                for a in self.visible_object_actions(request, obj)
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def object_action_view(self, request, object_id, action_name):
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404("No such object.")
        action = next((a for a in self.object_actions if a.name == action_name), None)
        if action is None:
            raise Http404("No such action.")
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        initial = action.initial(request, obj) if action.initial else {}
        extra = action.form_kwargs(request, obj) if action.form_kwargs else {}
        data = request.POST if request.method == "POST" else None  # a button without fields posts nothing
        form = action.form_class(data, initial=initial, **extra)
        if request.method == "POST" and form.is_valid():
            try:
                message = action.run(self, request, obj, form.cleaned_data)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except AccountabilityError as exc:
                add_domain_errors(form, exc)
            else:
                self.message_user(request, message or f"{action.label}: done.", messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "form": form,
            "action": action,
            "title": f"{action.label}: {obj}",
            "change_url": change_url,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/icdev/object_action.html", context)

    # --- display helpers ---------------------------------------------------------------------------
    @admin.display(description="project", ordering="project__key")
    def project_key(self, obj):
        return self.project_of(obj).key


def linked(obj, label: str | None = None) -> str:
    """An admin link to ``obj``'s change page."""
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))
