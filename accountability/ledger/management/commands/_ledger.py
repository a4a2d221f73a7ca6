"""Shared by the ledger commands: an actor that may default to a named system actor (for jobs that
only check integrity or run the integrator), and dates from the command line."""

from __future__ import annotations

import datetime as dt
import sys

from django.core.management.base import CommandError
from rich.console import Console

from accountability.actors import SystemActor
from accountability.exceptions import ValidationFailed
from accountability.management.commands._base import ServiceCommand


class LedgerCommand(ServiceCommand):
    """A ServiceCommand whose actor defaults to ``system_actor`` when --user is not given, and whose
    single action may be implicit (``default_action``)."""

    system_actor: str = ""
    default_action: str = ""

    def resolve_actor(self, username: str):
        if not username and self.system_actor:
            return SystemActor(self.system_actor)
        return super().resolve_actor(username)

    def handle(self, *args, **opts):
        if self.default_action and not any(opts.get(a) for a in self.actions):
            opts[self.default_action] = True
        self.failed = ""
        super().handle(*args, **opts)
        if self.failed:
            raise CommandError(self.failed, returncode=1)

    def emit(self, result):
        # Ledger tables hold long ids and "system:ledger:policy"-style names: no emoji codes, no
        # truncation to an 80-column pipe.
        out = self.stdout._out if hasattr(self.stdout, "_out") else sys.stdout
        self.console = Console(file=out, highlight=False, emoji=False, soft_wrap=True, width=200)
        super().emit(result)


def parse_time(value: str | None, flag: str) -> dt.datetime | None:
    """An ISO 8601 date or timestamp (UTC when no offset is given)."""
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationFailed({flag: [f"'{value}' is not an ISO 8601 date or timestamp."]}) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
