"""The seed's metrics are counted by the database in grouped passes: every figure must still be the
count of the entries behind it, whatever mix of types, days and attribution gaps the window holds."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from accountability.ledger.append import append_entry
from accountability.ledger.selectors import ledger_metrics

from .conftest import MODEL, SYSTEM, action_entry

pytestmark = pytest.mark.django_db

NO_VERSION = {key: value for key, value in MODEL.items() if key != "model_version"}


def test_counts_by_type_day_and_attribution_gap(project, grant, integrate):
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(days=2), tick=False):
        append_entry(**action_entry(1, project_key=project.key, actor=NO_VERSION))
    append_entry(**action_entry(2, project_key=project.key, actor=NO_VERSION))
    append_entry(**action_entry(4, project_key=project.key, actor=NO_VERSION))
    append_entry(**action_entry(3, project_key=project.key))
    integrate()
    metrics = ledger_metrics(SYSTEM, project_key=project.key, days=7)
    # Two days ago: an action without a model version, before the grant existed, so the invitation
    # check recorded a Violation beside it. Today: the grant's Governance entry, two actions without a
    # model version (one group of two in the database's count) and a complete one.
    assert metrics["entries_per_day"]["by_type"] == {"action": 4, "governance": 1, "violation": 1}
    local = timezone.localdate
    assert metrics["entries_per_day"]["days"] == [
        {"date": local(now - dt.timedelta(days=2)).isoformat(), "count": 2},
        {"date": local(now).isoformat(), "count": 4},
    ]
    assert metrics["entries_per_day"]["average"] == round(6 / 7, 2)
    assert metrics["attribution_completeness"] == {
        "percent": 50.0,
        "entries": 6,
        "incomplete": 3,
        "reasons": {"no_model_version": 3},
    }
    assert metrics["violation_rate"] == {"per_1000_actions": 250.0, "violations": 1, "ai_actions": 4}
    narrower = ledger_metrics(SYSTEM, project_key=project.key, days=1)
    assert narrower["attribution_completeness"]["entries"] == 4
    assert narrower["attribution_completeness"]["reasons"] == {"no_model_version": 2}
