"""Pure rules: the business-day calendar, trace ids, rubric validation, tallies and quorum, the policy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

from accountability.config import load_policy
from accountability.models.appeals import validate_trace_id
from accountability.rules import rubrics
from accountability.rules.calendar import BusinessCalendar, business_calendar

from .factories import FAIR, GOOD, TOP, VETO

ET = ZoneInfo("America/New_York")


def test_five_business_days_skip_the_weekend():
    friday = dt.datetime(2026, 6, 5, 15, 0, tzinfo=ET)
    assert business_calendar().add_business_days(friday, 5) == dt.datetime(2026, 6, 12, 15, 0, tzinfo=ET)


def test_business_days_skip_configured_holidays():
    # 2026-07-03 is the observed Independence Day holiday in the policy.
    thursday = dt.datetime(2026, 7, 2, 10, 0, tzinfo=ET)
    assert business_calendar().add_business_days(thursday, 5) == dt.datetime(2026, 7, 10, 10, 0, tzinfo=ET)


def test_business_days_are_counted_in_the_organisation_time_zone():
    # 02:00 UTC on Saturday is still Friday evening in New York: the count starts on Friday's date.
    utc = dt.datetime(2026, 6, 6, 2, 0, tzinfo=dt.UTC)
    due = business_calendar().add_business_days(utc, 1)
    assert due == dt.datetime(2026, 6, 8, 22, 0, tzinfo=ET)


def test_a_deadline_across_a_dst_change_keeps_the_local_time():
    friday = dt.datetime(2026, 10, 30, 9, 0, tzinfo=ET)  # EDT; Monday 2 Nov is EST
    due = business_calendar().add_business_days(friday, 1)
    assert due.astimezone(ET).hour == 9
    assert due.utcoffset() == dt.timedelta(hours=-5)


def test_custom_calendar_and_counting_between_dates():
    calendar = BusinessCalendar(tz=ET, weekend=frozenset({4, 5}), holidays=frozenset({dt.date(2026, 6, 7)}))
    start = dt.datetime(2026, 6, 4, 12, 0, tzinfo=ET)  # Thursday; Fri/Sat weekend, Sunday 7th a holiday
    assert calendar.add_business_days(start, 1) == dt.datetime(2026, 6, 8, 12, 0, tzinfo=ET)
    assert calendar.business_days_between(start, dt.datetime(2026, 6, 9, tzinfo=ET)) == 2
    assert calendar.add_business_days(start, 0) == start
    with pytest.raises(ValueError, match="zero or more"):
        calendar.add_business_days(start, -1)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("4bf92f3577b34da6a3ce929d0e0e4736", True),
        ("4BF92F3577B34DA6A3CE929D0E0E4736", False),
        ("4bf92f3577b34da6a3ce929d0e0e473", False),
        ("4bf92f3577b34da6a3ce929d0e0e47366", False),
        ("4bf92f3577b34da6a3ce929d0e0e473g", False),
        ("0" * 32, False),
    ],
)
def test_trace_ids_follow_w3c_trace_context(value, valid):
    if valid:
        validate_trace_id(value)
    else:
        with pytest.raises(ValidationError):
            validate_trace_id(value)


def _rubric():
    return rubrics.rubric_snapshot()


def test_scores_are_validated_against_the_rubric_json_schema():
    rubric = _rubric()
    assert rubrics.score_errors(rubric, GOOD) == []
    assert rubrics.score_errors(rubric, {**GOOD, "fairness": 6}) == ["fairness: 6 is greater than the maximum of 5"]
    assert rubrics.score_errors(rubric, {**GOOD, "extra": 3})[0].startswith("Additional properties")
    missing = dict(GOOD)
    del missing["privacy"]
    assert rubrics.score_errors(rubric, missing) == ["'privacy' is a required property"]
    assert rubrics.score_errors(rubric, {**GOOD, "privacy": "4"}) == ["privacy: '4' is not of type 'integer'"]
    assert rubrics.score_schema(rubric)["required"] == list(TOP)


def test_weighted_aggregate_vetoes_and_recommendations():
    rubric = _rubric()
    assert rubrics.weighted_score(rubric, TOP) == Decimal("1.000")
    assert rubrics.weighted_score(rubric, GOOD) == Decimal("0.750")
    assert rubrics.weighted_score(rubric, FAIR) == Decimal("0.500")
    rule = {"min_scores": 2, "min_fraction": 0.5, "required_disciplines": [], "wait_for": "all"}
    board = [{"discipline": "legal"}, {"discipline": "technical"}, {"discipline": "domain"}]
    result = rubrics.tally(
        rubric,
        rule,
        board,
        [
            {"disposition": "scored", "discipline": "legal", "scores": GOOD},
            {"disposition": "scored", "discipline": "technical", "scores": FAIR},
            {"disposition": "missed", "discipline": "domain", "scores": {}},
        ],
    )
    assert (result.scored, result.missed, result.quorum_met) == (2, 1, True)
    assert result.aggregate == Decimal("0.625")
    assert result.recommendation == "approve_with_conditions"
    vetoed = rubrics.tally(rubric, rule, board, [{"disposition": "scored", "discipline": "legal", "scores": VETO}] * 2)
    assert vetoed.vetoes == [{"criterion": "fairness", "score": 1, "veto_below": 2}] * 2
    assert vetoed.recommendation == "reject"
    assert rubrics.recommend(rubric, Decimal("0.75"), False) == "approve"
    assert rubrics.recommend(rubric, Decimal("0.49"), False) == "reject"


def test_quorum_needs_count_fraction_and_disciplines():
    rule = rubrics.quorum_snapshot("standard")
    board = [{"discipline": d} for d in ("legal", "technical", "affected_community", "privacy")]
    assert rubrics.quorum_check(rule, board, ["legal", "affected_community"]) == []
    assert rubrics.quorum_check(rule, board, ["legal", "technical"]) == ["no affected-community score"]
    assert rubrics.quorum_check(rule, board, ["affected_community"]) == ["1 of the 2 scores the quorum needs"]
    assert rubrics.quorum_feasible(rule, board[:2]) == ["no affected-community score"]


def _policy_data() -> dict:
    with open(settings.ICDEV_ACCOUNTABILITY_CONFIG, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_the_policy_refuses_incoherent_rubrics_and_unknown_defaults(tmp_path):
    data = _policy_data()
    data["ethics"]["rubrics"][0]["criteria"].append(dict(data["ethics"]["rubrics"][0]["criteria"][0]))
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ImproperlyConfigured, match="criterion ids must be unique"):
        load_policy(path)
    data = _policy_data()
    data["calendar"]["timezone"] = "Mars/Olympus"
    data["ethics"]["default_quorum"] = "nope"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ImproperlyConfigured, match="unknown time zone"):
        load_policy(path)
    data["calendar"]["timezone"] = "America/New_York"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ImproperlyConfigured, match="no quorum rule 'nope'"):
        load_policy(path)
    data = _policy_data()
    data["appeals"]["assignment_sla_business_days"] = 0
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ImproperlyConfigured, match="appeals/assignment_sla_business_days"):
        load_policy(path)
