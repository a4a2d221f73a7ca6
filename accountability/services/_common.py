"""Helpers every service uses: validation into ValidationFailed, tracked saves, JSON-safe diffs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models

from accountability.actors import actor_label, history_user
from accountability.exceptions import ValidationFailed


def jsonable(value):
    """Make a value safe for a ledger payload (dates as ISO strings, decimals as strings, rows as ids)."""
    if isinstance(value, models.Model):
        return getattr(value, "public_id", "") or value.pk
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def full_clean(obj: models.Model, *, exclude: list[str] | None = None) -> None:
    """Run the model's validators; raise ValidationFailed with field messages."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.message_dict) from exc


def raise_if(errors: dict) -> None:
    if errors:
        raise ValidationFailed(errors)


def tracked_save(obj: models.Model, *, actor, reason: str, **kwargs) -> None:
    """Save with simple-history's user and reason set (services run outside requests too)."""
    obj._history_user = history_user(actor)
    obj._change_reason = f"{reason} (by {actor_label(actor)})"[:100]
    obj.save(**kwargs)


def apply_changes(obj: models.Model, changes: dict, allowed: set[str]) -> dict:
    """Set allowed fields on ``obj``; return {field: [old, new]} for the ones that changed."""
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed({name: ["This field cannot be changed here."] for name in unknown})
    diff = {}
    for name, new in changes.items():
        old = getattr(obj, name)
        if old != new:
            setattr(obj, name, new)
            diff[name] = [jsonable(old), jsonable(new)]
    return diff
