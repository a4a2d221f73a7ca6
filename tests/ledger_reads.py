"""Reading the ledger from other capabilities' tests. On PostgreSQL appends wait in a queue until the
integrator sequences them, so these helpers integrate first; the genesis entry is left out. Filter on
the ledger's index columns (``action_type``, ``entry_type``, ``project_key``, ``actor_ref``, ``task_id``,
``trace_id``, ``entry_id``) and read the seed document from ``entry.document``."""

from __future__ import annotations

from django.db.models import QuerySet

from accountability.ledger.models import LedgerEntry
from accountability.ledger.services.integration import integrate_pending


def integrated(**filters) -> QuerySet[LedgerEntry]:
    """Every entry appended so far (integrated now if it was queued), in log order, filtered as asked."""
    integrate_pending()
    return LedgerEntry.objects.filter(seq__gt=0, **filters).order_by("seq")


def action_types(**filters) -> list[str]:
    """The action types of the matching entries, in log order."""
    return list(integrated(**filters).values_list("action_type", flat=True))
