"""Reads of the model key registry, scoped like the ledger itself: the keys of projects whose ledger
the actor may read (``history.view``)."""

from __future__ import annotations

from django.db.models import QuerySet

from accountability.exceptions import NotFound

from ..models import ModelKey
from ._scope import can_read, require_reader


def model_keys_list(actor, *, project=None, model_id=None, active=None) -> QuerySet[ModelKey]:
    """Model keys of the projects the actor may read, by project, model and newest first; ``project``
    (a Project or its key) and ``model_id`` narrow it, ``active`` True/False keeps unrevoked/revoked keys."""
    keys = require_reader(actor)
    qs = ModelKey.objects.select_related("project", "registered_by", "revoked_by")
    if keys is not None:
        qs = qs.filter(project__key__in=keys)
    if project is not None and project != "":
        key = getattr(project, "key", project)
        if not can_read(actor, key):
            raise NotFound(f"No project {key!r}.")  # the same answer as for a project that does not exist
        qs = qs.filter(project__key=key)
    if model_id:
        qs = qs.filter(model_id=model_id)
    if active is not None:
        qs = qs.filter(revoked_at__isnull=active)
    # The primary key last, so pages of equal (project, model, time) rows never repeat or skip one.
    return qs.order_by("project__key", "model_id", "-registered_at", "-pk")


def model_key_get(actor, project_key: str, kid: str) -> ModelKey:
    """One model key by project key and kid; NotFound when absent or in a project the actor cannot read."""
    project_key, kid = str(project_key).strip(), str(kid).strip()
    if project_key and can_read(actor, project_key):
        found = ModelKey.objects.select_related("project", "registered_by", "revoked_by").filter(
            project__key=project_key, kid=kid
        )
        key = found.first()
        if key is not None:
            return key
    raise NotFound(f"No model key {kid!r} in project {project_key!r}.")
