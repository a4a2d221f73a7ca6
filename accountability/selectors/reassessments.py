"""Reads of reassessment schedules and their completion history (project-scoped)."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.utils import timezone

from accountability.models import Project, ReassessmentCompletion, ReassessmentSchedule
from accountability.permissions import Perm, require
from accountability.rules.reassessments import due_soon_days

from ._scope import get_by_public_id, scoped


def reassessment_list(actor, project: Project | None = None, *, include_inactive: bool = True) -> QuerySet:
    """Schedules of the projects the actor may read, with ``live_status`` (from next_due and today)."""
    qs = (
        ReassessmentSchedule.objects.select_related("project", "use_case", "assigned_to", "last_completed_by")
        .annotate(completion_count=Count("completions"))
        .with_live_status(timezone.localdate(), due_soon_days())
    )
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def reassessment_get(actor, public_id: str, project: Project | None = None) -> ReassessmentSchedule:
    """One schedule by its public id (``RAS-00001``)."""
    return get_by_public_id(ReassessmentSchedule, reassessment_list(actor, project), public_id)


def reassessment_completions(actor, schedule: ReassessmentSchedule) -> QuerySet[ReassessmentCompletion]:
    """The completion history of a schedule, newest first."""
    require(actor, schedule.project, Perm.REGISTRY_VIEW)
    return schedule.completions.select_related("completed_by").order_by("-completed_at", "-id")
