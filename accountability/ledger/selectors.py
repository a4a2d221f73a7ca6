"""Reads of the ledger used by other capabilities."""

from __future__ import annotations

from .models import LedgerEntry


def decision_entry_for_trace(trace_id: str, project_key: str = "") -> LedgerEntry | None:
    """The Decision entry that recorded the AI decision with this W3C trace id, if the ledger has one."""
    qs = LedgerEntry.objects.filter(trace_id=trace_id, entry_type=LedgerEntry.EntryType.DECISION)
    if project_key:
        qs = qs.filter(project_key=project_key)
    return qs.order_by("seq").first()
