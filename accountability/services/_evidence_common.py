"""Helpers shared by the transparency-evidence services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accountability.exceptions import ValidationFailed
from accountability.models import AIUseCase
from accountability.permissions import Perm, require


def require_on_use_case(actor, use_case: AIUseCase, perm: Perm, message: str | None = None) -> AIUseCase:
    """Check ``perm`` in the use case's project and refuse new evidence for a retired use case."""
    require(actor, use_case.project, perm, message)
    if use_case.stage == AIUseCase.Stage.RETIRED:
        raise ValidationFailed({"use_case": [f"{use_case.public_id} is retired; it takes no new evidence."]})
    return use_case


def unknown_fields(given: dict, allowed) -> None:
    """Refuse keyword arguments the service does not accept."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValidationFailed({name: ["Unknown field."] for name in unknown})


def required_text(errors: dict, **values) -> dict:
    """Add 'required' errors for blank values; return the stripped strings."""
    out = {}
    for name, value in values.items():
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            errors.setdefault(name, []).append("This field is required.")
        out[name] = text
    return out


def past_date(errors: dict, name: str, value, *, allow_none: bool = False) -> dt.date | None:
    """A date that is not in the future (evidence records what happened)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        errors.setdefault(name, []).append("Must be a date (YYYY-MM-DD).")
        return None
    if value > timezone.localdate():
        errors.setdefault(name, []).append("Cannot be in the future.")
    return value


def days_after(day: dt.date, days: int) -> dt.date:
    """The date ``days`` after ``day`` (due dates are stored when their clock starts)."""
    return day + dt.timedelta(days=days)
