"""Project scoping shared by every selector."""

from __future__ import annotations

from django.db.models import Model, QuerySet

from accountability.exceptions import NotFound
from accountability.models import Project
from accountability.permissions import Perm, project_ids_with, require


def scoped(
    qs: QuerySet, actor, perm: Perm = Perm.REGISTRY_VIEW, project: Project | None = None, field: str = "project"
) -> QuerySet:
    """Limit ``qs`` to projects where the actor holds ``perm`` (and to ``project`` when given)."""
    if project is not None:
        require(actor, project, perm)
        return qs.filter(**{field: project})
    ids = project_ids_with(actor, perm)
    return qs if ids is None else qs.filter(**{f"{field}__in": ids})


def get_by_public_id(model: type[Model], qs: QuerySet, value: str) -> Model:
    """Fetch one row by its public id from an already-scoped queryset; NotFound otherwise."""
    try:
        return qs.get(pk=model.pk_from_public_id(value))
    except model.DoesNotExist as exc:
        raise NotFound(f"No {model._meta.verbose_name} {value!r}.") from exc
