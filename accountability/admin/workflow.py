"""Workflow steps in the admin: the staff's inbox and queue (project-scoped), claim and release actions,
and the process state and task history shown on appeal and ethics-review pages.

viewflow's own admin for ``Process`` and ``Task`` lists every process of every project; it is replaced
by this scoped view.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from viewflow.workflow.models import Process, Task

from accountability.exceptions import AccountabilityError
from accountability.models import WorkflowTask
from accountability.selectors import workflow as task_sel
from accountability.services import workflow as workflow_svc

for _model in (Process, Task):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

# step -> (admin object action on the subject, or a portal page)
STEP_ACTIONS = {
    "assign_reviewer": "assign",
    "review": "resolve",
    "escalate": "resolve",
    "decide": "decide",
    "revise": "revise",
}


def step_url(task) -> str:
    """Where a person completes ``task``: the subject's admin action, or the portal's scoring page."""
    subject = task_sel.task_subject(task)
    name = task.flow_task.name
    if name == "score":
        return f"/portal/ethics-reviews/{subject.public_id}/score/"
    opts = subject._meta
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_object_action", args=[subject.pk, STEP_ACTIONS.get(name, "")]
    )


def process_summary(subject) -> str:
    """The process state and every step with its owner and timing, as an HTML table."""
    process = getattr(subject, "process", None)
    if subject.pk is None or process is None:
        return "No process yet."
    rows = [
        (
            task.pk,
            task_sel.step_label(task),
            task.status,
            task.owner.get_username() if task.owner_id else "—",
            f"{task.created:%Y-%m-%d %H:%M}",
            f"{task.finished:%Y-%m-%d %H:%M}" if task.finished else "",
            f"due {task.scheduled:%Y-%m-%d %H:%M}" if task.scheduled else "",
        )
        for task in task_sel.process_tasks(subject)
    ]
    return format_html(
        "<p>Process #{} · <b>{}</b>{}</p><table><thead><tr><th>#</th><th>step</th><th>status</th><th>owner</th>"
        "<th>created</th><th>finished</th><th>timer</th></tr></thead><tbody>{}</tbody></table>",
        process.pk,
        process.status,
        format_html(" · finished {}", f"{process.finished:%Y-%m-%d %H:%M}") if process.finished else "",
        format_html_join("", "<tr>" + "<td>{}</td>" * 7 + "</tr>", rows),
    )


class BoxFilter(admin.SimpleListFilter):
    title = "box"
    parameter_name = "box"

    def lookups(self, request, model_admin):
        return [("inbox", "My inbox"), ("queue", "My queue"), ("open", "All open steps")]

    def queryset(self, request, queryset):
        if self.value() == "inbox":
            return queryset.filter(pk__in=task_sel.task_inbox(request.user).values("pk"))
        if self.value() == "queue":
            return queryset.filter(pk__in=task_sel.task_queue(request.user).values("pk"))
        if self.value() == "open":
            return queryset.filter(status__in=task_sel.OPEN, flow_task_type="HUMAN")
        return queryset


@admin.register(WorkflowTask)
class WorkflowTaskAdmin(admin.ModelAdmin):
    """Workflow inbox and queue: the steps of appeals and ethics reviews the user may see."""

    list_display = ["pk", "step", "subject_link", "project", "status", "owner", "created", "finished", "do"]
    list_filter = [BoxFilter, "status"]
    list_display_links = None
    actions = ["claim", "release"]
    ordering = ["-created"]

    def get_queryset(self, request):
        return task_sel.task_visible(request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="step")
    def step(self, obj):
        return task_sel.step_label(obj)

    @admin.display(description="subject")
    def subject_link(self, obj):
        subject = task_sel.task_subject(obj)
        opts = subject._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[subject.pk])
        return format_html('<a href="{}">{}</a>', url, subject.public_id)

    @admin.display(description="project")
    def project(self, obj):
        return task_sel.task_subject(obj).project.key

    @admin.display(description="")
    def do(self, obj):
        if obj.status not in task_sel.OPEN or obj.flow_task_type != "HUMAN":
            return ""
        return format_html('<a href="{}">open</a>', step_url(obj))

    def _run(self, request, queryset, service, verb):
        done = 0
        for task in queryset:
            try:
                service(actor=request.user, task=task)
                done += 1
            except AccountabilityError as exc:
                subject = task_sel.task_subject(task)
                self.message_user(request, f"{subject.public_id} step {task.pk}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} step(s).", messages.SUCCESS)

    @admin.action(description="Claim the selected steps")
    def claim(self, request, queryset):
        self._run(request, queryset, workflow_svc.workflow_task_claim, "Claimed")

    @admin.action(description="Release the selected steps")
    def release(self, request, queryset):
        self._run(request, queryset, workflow_svc.workflow_task_release, "Released")
