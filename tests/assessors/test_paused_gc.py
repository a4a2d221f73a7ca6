"""The audit's collector pause: overlapping audits (threads) re-enable the collector once, when the last
one ends; a collector that was off before stays off; an error inside still restores it."""

from __future__ import annotations

import gc
import threading

import pytest

from assessors.audit import paused_gc


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_overlapping_pauses_re_enable_the_collector_when_the_last_one_ends(collector_on):
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with paused_gc():
            first_in.set()
            second_in.wait(5)
        seen["after_first"] = gc.isenabled()
        first_out.set()

    def second():
        first_in.wait(5)
        with paused_gc():
            second_in.set()
            first_out.wait(5)
            seen["second_after_first_left"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"after_first": False, "second_after_first_left": False}
    assert gc.isenabled()


def test_an_error_inside_restores_the_collector_and_a_disabled_one_stays_off(collector_on):
    def failing_audit():
        with paused_gc():
            seen.append(gc.isenabled())
            raise RuntimeError("check failed")

    seen = []
    with pytest.raises(RuntimeError):
        failing_audit()
    assert (seen, gc.isenabled()) == ([False], True)
    gc.disable()
    with paused_gc(), paused_gc():
        assert not gc.isenabled()
    assert not gc.isenabled()
