"""Pure reassessment rules: cadence arithmetic on whole steps from the anchor, and the due state."""

from __future__ import annotations

import datetime as dt

from accountability.config import policy
from accountability.models import ReassessmentSchedule

Status = ReassessmentSchedule.Status


def frequency_presets() -> dict[str, int]:
    """Named cadences from configuration (quarterly 90, semi_annual 182, annual 365, biennial 730)."""
    return dict(policy()["reassessments"]["frequency_presets"])


def due_soon_days() -> int:
    """How many days before next_due a schedule counts as due (portal default)."""
    return policy()["reassessments"]["due_soon_days"]


def assessment_types() -> list[str]:
    """Assessment types a schedule may have (configuration)."""
    return list(policy()["reassessments"]["assessment_types"])


def first_step_after(anchor: dt.date, frequency_days: int, after: dt.date) -> dt.date:
    """The first date ``anchor + k * frequency_days`` (k >= 0) strictly after ``after``."""
    if after < anchor:
        return anchor
    steps = (after - anchor).days // frequency_days + 1
    return anchor + dt.timedelta(days=steps * frequency_days)


def next_due_after_completion(
    anchor: dt.date, frequency_days: int, current_due: dt.date, completed_on: dt.date
) -> dt.date:
    """The first cadence step after both the due date just satisfied and the completion (no drift)."""
    return first_step_after(anchor, frequency_days, max(current_due, completed_on))


def status_for(next_due: dt.date, today: dt.date, window_days: int | None = None) -> str:
    """on_track, due (within the due-soon window) or overdue (past next_due)."""
    window = due_soon_days() if window_days is None else window_days
    if next_due < today:
        return Status.OVERDUE
    if next_due <= today + dt.timedelta(days=window):
        return Status.DUE
    return Status.ON_TRACK


def frequency_label(days: int) -> str:
    """The preset name of a frequency, or ``every N days``."""
    for name, value in frequency_presets().items():
        if value == days:
            return name
    return f"every {days} days"
