"""Who is told about what, resolved in bulk for whole batches of projects (sweeps, escalations)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.utils import timezone

from accountability.models import CAIODesignation, Membership


def role_user_ids(project_ids: Iterable[int], roles: Iterable[str]) -> dict[int, list[int]]:
    """Active users holding any of ``roles`` per project."""
    out: dict[int, list[int]] = defaultdict(list)
    rows = (
        Membership.objects.filter(project_id__in=set(project_ids), role__in=list(roles), user__is_active=True)
        .values_list("project_id", "user_id")
        .distinct()
        .order_by("project_id", "user_id")
    )
    for project_id, user_id in rows:
        if user_id not in out[project_id]:
            out[project_id].append(user_id)
    return out


def caio_user_ids(project_ids: Iterable[int]) -> dict[int, list[int]]:
    """The CAIO to escalate to per project: the active designation's official, else CAIO members."""
    project_ids = set(project_ids)
    out: dict[int, list[int]] = defaultdict(list)
    designations = (
        CAIODesignation.objects.active(timezone.localdate())
        .filter(project_id__in=project_ids, official__isnull=False, official__is_active=True)
        .values_list("project_id", "official_id")
    )
    for project_id, user_id in designations:
        out[project_id].append(user_id)
    missing = project_ids - set(out)
    if missing:
        for project_id, users in role_user_ids(missing, [Membership.Role.CAIO]).items():
            out[project_id].extend(users)
    return out
