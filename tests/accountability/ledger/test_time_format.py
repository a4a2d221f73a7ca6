"""Leaf times are read back by slicing ``format_time``'s fixed-width form, with strptime for
anything else: every text must be accepted or refused exactly as strptime alone would, with the
same time."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accountability.ledger.offline.formats import format_time, parse_time


def _strptime(text: str):
    """What parse_time returned before: strptime's answer, or the ValueError's type."""
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return ValueError


def _ours(text: str):
    try:
        return parse_time(text)
    except ValueError:
        return ValueError


@settings(max_examples=300, deadline=None)
@given(st.datetimes(timezones=st.timezones()))
def test_a_formatted_time_reads_back_as_the_same_instant(value):
    text = format_time(value)
    assert parse_time(text) == value.astimezone(dt.UTC)  # (in UTC: local times in a DST gap compare oddly)
    assert parse_time(text).tzinfo is dt.UTC
    assert _ours(text) == _strptime(text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23T08:41:35.123456Z",
        "2026-11-23T08:41:35.1Z",  # strptime's %f takes 1-6 digits
        "2026-1-3T8:41:35.123456Z",  # and its fields fewer digits
        "2026-13-23T08:41:35.123456Z",
        "2026-02-30T08:41:35.123456Z",
        "2026-11-23T24:00:00.000000Z",
        "2026-11-23T08:60:00.000000Z",
        "2026-11-23T08:41:60.000000Z",
        "2026-11-23T08:41:35.123456+00:00",
        "2026-11-23T08:41:35Z",
        "2026-11-23T08:41:35.1234567Z",
        "２０２６-11-23T08:41:35.123456Z",  # fullwidth digits
        "0000-01-01T00:00:00.000000Z",
        "",
    ],
)
def test_any_other_text_is_read_or_refused_as_strptime_would(text):
    assert _ours(text) == _strptime(text)
