"""Values derived from settings, computed once and computed again when one of their settings
changes. The append path reads several settings per entry, and each read through Django's
LazySettings (a missing one most of all) costs about a microsecond; Django sends ``setting_changed``
for ``override_settings`` and pytest-django's ``settings`` fixture, as its own caches rely on. Code
that assigns ``django.conf.settings.X`` directly sends no signal and is not seen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.signals import setting_changed

T = TypeVar("T")
_UNSET = object()


class SettingCache(Generic[T]):
    """``compute()`` once; forgotten when any of ``names`` changes."""

    def __init__(self, names: tuple[str, ...], compute: Callable[[], T]):
        self.names = frozenset(names)
        self.compute = compute
        self.value = _UNSET
        setting_changed.connect(self._forget, weak=False)

    def __call__(self) -> T:
        """The value, computed on first use after a change."""
        value = self.value
        if value is _UNSET:
            value = self.value = self.compute()
        return value

    def _forget(self, *, setting: str, **kwargs) -> None:
        if setting in self.names:
            self.value = _UNSET
