"""Values derived from settings: computed once, and again after one of their settings changes."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.test import override_settings

from accountability.ledger.settings_cache import SettingCache


def test_computed_once_and_again_after_its_setting_changes():
    calls = []

    def compute():
        calls.append(1)
        return getattr(django_settings, "ICDEV_TEST_CACHED", "unset")

    cached = SettingCache(("ICDEV_TEST_CACHED",), compute)
    assert (cached(), cached()) == ("unset", "unset")
    assert len(calls) == 1
    with override_settings(ICDEV_TEST_OTHER="x"):  # another setting: still the cached value
        assert cached() == "unset"
        assert len(calls) == 1
    with override_settings(ICDEV_TEST_CACHED="on"):
        assert (cached(), cached()) == ("on", "on")
        assert len(calls) == 2
    assert cached() == "unset"  # leaving the override changes the setting back
    assert len(calls) == 3


def test_a_computed_none_is_cached_too():
    calls = []
    cached = SettingCache(("ICDEV_TEST_NONE",), lambda: calls.append(1))
    assert cached() is None
    assert cached() is None
    assert len(calls) == 1
