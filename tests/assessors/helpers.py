"""Helpers of the assessor tests: the fixed clock, and evaluating one check for one project."""

from __future__ import annotations

import datetime as dt

from accountability.actors import SystemActor
from assessors.catalogue import get_catalogue
from assessors.engine import Engine

# A Monday, after the M-25-21 minimum-practice deadline (3 Apr 2026), before M-26-04's sunset.
NOW = dt.datetime(2026, 6, 15, 14, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
SYSTEM = SystemActor("test:assessors")


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def result_of(project, check_id: str, now: dt.datetime | None = None):
    """The engine's result of one check (id or alias) for one project."""
    check = get_catalogue().resolve(check_id)
    results = Engine(get_catalogue(), project_ids=[project.pk], now=now).evaluate([check])
    assert len(results) == 1
    return results[0]


def status_of(project, check_id: str, now: dt.datetime | None = None) -> str:
    return result_of(project, check_id, now).status


def failing_ids(result) -> list[str]:
    return [f["id"] for f in result.failing]


# Inventory fields a pilot or deployed use case needs (OMB 2025 fields), and every practice implemented.
OPERATING = {
    "operational_date": dt.date(2025, 1, 6),
    "development_method": "in_house",
    "ato_system_name": "BEN-SYS",
    "data_description": "Wage and benefit records.",
    "involves_pii": False,
    "demographic_features": "None used.",
    "has_custom_code": False,
}
ALL_PRACTICES = dict.fromkeys(
    (
        "testing",
        "impact_assessment",
        "potential_impacts",
        "independent_review",
        "monitoring",
        "operator_training",
        "fail_safe",
        "appeal_process",
        "public_consultation",
    ),
    "implemented",
)
