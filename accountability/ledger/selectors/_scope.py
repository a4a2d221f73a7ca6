"""Who may read which ledger entries: those of projects where the actor holds ``history.view``
(auditors, governance staff, the CAIO), plus ledger-wide entries (genesis, purge records) for anyone
who can read some project's ledger. Superusers and system actors read everything."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accountability.exceptions import NotAllowed
from accountability.permissions import Perm, is_unrestricted, visible_projects


def ledger_projects(actor) -> set[str] | None:
    """Project keys whose entries the actor may read; None means every project."""
    if is_unrestricted(actor):
        return None
    return set(visible_projects(actor, Perm.HISTORY_VIEW).values_list("key", flat=True))


def require_reader(actor) -> set[str] | None:
    """The actor's ledger projects; NotAllowed when they may read no project's ledger at all."""
    keys = ledger_projects(actor)
    if keys is not None and not keys:
        raise NotAllowed("Your roles do not include reading the ledger (history.view).")
    return keys


def scope_q(keys: set[str] | None) -> Q:
    """A filter for entries of ``keys`` (None: everything) and ledger-wide entries."""
    return Q() if keys is None else Q(project_key__in=keys) | Q(project_key="")


def scoped(qs: QuerySet, actor) -> QuerySet:
    """Limit a LedgerEntry or PendingEntry queryset to what the actor may read."""
    return qs.filter(scope_q(require_reader(actor)))


def can_read(actor, project_key: str) -> bool:
    """Whether the actor may read entries of this project (\"\" is ledger-wide)."""
    keys = ledger_projects(actor)
    return keys is None or (bool(keys) and (project_key in keys or project_key == ""))
