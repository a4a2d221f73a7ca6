"""Fixtures of the assessor tests: a frozen clock and a freshly loaded catalogue per test."""

from __future__ import annotations

import pytest
import time_machine

from assessors import sqlcache
from assessors.catalogue import clear_cache
from assessors.engine import clear_plans

from .helpers import NOW


@pytest.fixture
def clock():
    """Freeze time at NOW (tests may travel elsewhere with ``clock.move_to``)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _fresh_catalogue():
    clear_cache()
    sqlcache.clear()
    clear_plans()
    yield
    clear_cache()
