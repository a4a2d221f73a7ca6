"""Base of the icdev commands: --json and --user handling, domain errors to stderr with a non-zero exit."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from accountability.exceptions import AccountabilityError, ValidationFailed


def _default(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def parse_date(value: str | None, flag: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed({flag: [f"'{value}' is not a date (YYYY-MM-DD)."]}) from exc


class ServiceCommand(BaseCommand):
    """Exactly one action flag per call; the actor comes from --user or ICDEV_USER."""

    actions: list[str] = []  # names of the action flags, e.g. ["create_plan", "list_plans"]

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print JSON only (errors go to stderr).")
        parser.add_argument(
            "--user",
            default=os.environ.get("ICDEV_USER", ""),
            help="Username acting (default: $ICDEV_USER). Permissions are those of this user.",
        )
        self.add_action_arguments(parser)

    def add_action_arguments(self, parser):
        raise NotImplementedError

    def resolve_actor(self, username: str):
        if not username:
            raise CommandError("Say who is acting: --user USERNAME (or set ICDEV_USER).")
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        return user

    def handle(self, *args, **opts):
        chosen = [name for name in self.actions if opts.get(name)]
        if len(chosen) != 1:
            flags = ", ".join("--" + n.replace("_", "-") for n in self.actions)
            raise CommandError(f"Choose exactly one action: {flags}.")
        self.as_json = opts["json"]
        self.console = Console(
            file=self.stdout._out if hasattr(self.stdout, "_out") else sys.stdout, highlight=False, soft_wrap=True
        )
        try:
            actor = self.resolve_actor(opts["user"])
            result = getattr(self, f"do_{chosen[0]}")(actor, opts)
        except ValidationFailed as exc:
            lines = [f"{field}: {msg}" for field, msgs in exc.errors.items() for msg in msgs]
            raise CommandError("invalid input:\n  " + "\n  ".join(lines), returncode=2) from exc
        except AccountabilityError as exc:
            raise CommandError(
                f"{exc.code}: {exc.message}", returncode=3 if exc.http_status in (403, 404) else 4
            ) from exc
        self.emit(result)

    def emit(self, result):
        data, table = result if isinstance(result, tuple) else (result, None)
        if self.as_json:
            self.stdout.write(json.dumps(data, indent=2, default=_default))
        elif table is not None:
            self.console.print(table)
        else:
            self.print_mapping(data)

    def print_mapping(self, data, indent: int = 0):
        pad = "  " * indent
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, dict | list) and value:
                    self.stdout.write(f"{pad}{key}:")
                    self.print_mapping(value, indent + 1)
                else:
                    self.stdout.write(f"{pad}{key}: {value}")
        elif isinstance(data, list):
            for item in data:
                if isinstance(item, dict):
                    self.stdout.write(f"{pad}-")
                    self.print_mapping(item, indent + 1)
                else:
                    self.stdout.write(f"{pad}- {item}")
        else:
            self.stdout.write(f"{pad}{data}")

    @staticmethod
    def table(title: str, columns: list[str], rows: list[list]) -> Table:
        table = Table(title=title)
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*["" if v is None else str(v) for v in row])
        return table
