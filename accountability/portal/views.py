"""Portal views: read pages over the selectors; writes go through the same services as the API."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from accountability.exceptions import NotFound
from accountability.permissions import Perm, has_perm
from accountability.selectors import registry as sel


@login_required
def home(request):
    """The user's projects and inbox summary."""
    projects = sel.project_list(request.user)
    unread = sel.notification_list(request.user, unread_only=True).count()
    return render(request, "portal/home.html", {"projects": projects, "unread": unread})


@login_required
def project_detail(request, key):
    """One project's registry at a glance: CAIO, use cases with completeness, oversight plans."""
    try:
        project = sel.project_get(request.user, key)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    context = {"project": project, "can_read_registry": has_perm(request.user, project, Perm.REGISTRY_VIEW)}
    if context["can_read_registry"]:
        use_cases = list(sel.use_case_list(request.user, project))
        context.update(
            caio=sel.caio_current(request.user, project),
            use_cases=[(uc, sel.use_case_completeness(request.user, uc)) for uc in use_cases],
            plans=sel.oversight_plan_list(request.user, project).order_by("id"),
        )
    return render(request, "portal/project.html", context)


@login_required
def notifications(request):
    """The user's inbox."""
    return render(request, "portal/notifications.html", {"notifications": sel.notification_list(request.user)[:200]})
