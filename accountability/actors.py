"""Who acts: a user, or a named system actor (``celery:sla``, ``cli:demo``) for background jobs.

Every service receives its actor explicitly; the ledger and history record it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class SystemActor:
    """A trusted internal actor (scheduled jobs, migrations of data); it passes permission checks."""

    name: str

    is_superuser = False
    is_authenticated = True
    is_active = True
    pk = None

    def __post_init__(self):
        if ":" not in self.name:
            raise ValueError("system actor names look like 'component:purpose', e.g. 'celery:sla'")

    def __str__(self) -> str:
        return self.name


Actor = Union["AbstractBaseUser", SystemActor]


def is_system(actor) -> bool:
    return isinstance(actor, SystemActor)


def actor_label(actor) -> str:
    """A human-readable, stable label (username or system name)."""
    if is_system(actor):
        return actor.name
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "anonymous"
    return actor.get_username()


def actor_ref(actor) -> dict:
    """What the ledger copies about the actor, so the record survives the user's deletion."""
    if is_system(actor):
        return {"kind": "system", "id": actor.name, "name": actor.name}
    return {"kind": "user", "id": str(actor.pk), "name": actor.get_username()}


def history_user(actor):
    """The user simple-history records for a change (None for system actors)."""
    return None if is_system(actor) or actor is None or not actor.is_authenticated else actor
