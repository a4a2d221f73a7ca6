"""The seed's audit queries: actions by a model, the decision chain of a task, violations in a time
range, and the responsibility chain of an entry. Pending entries (PostgreSQL, not yet integrated)
are included and marked, so an investigation never misses what was just recorded."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from accountability.exceptions import NotFound, ValidationFailed

from ..models import LedgerEntry, PendingEntry
from ..schema import EntryType
from ._scope import require_reader, scope_q
from .entries import effective_document, entry_get

MAX_LIMIT = 5000


def _limit(limit: int) -> int:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": [f"Between 1 and {MAX_LIMIT}."]})
    return limit


class Rows(list):
    """A bounded answer: at most ``limit`` rows, and ``truncated`` when more matched (so a caller can
    say so instead of presenting the first rows as everything)."""

    truncated: bool = False


def _both(actor, q: Q, *, order: str, limit: int) -> Rows:
    """Rows of integrated and pending entries matching ``q`` that the actor may read, merged."""
    q &= scope_q(require_reader(actor))
    rows = list(LedgerEntry.objects.filter(q).defer("leaf_bytes").order_by(order, "seq")[: limit + 1])
    rows += list(PendingEntry.objects.filter(q).order_by(order, "id")[: limit + 1])
    key = (lambda r: (r.occurred_at, r.seq if r.seq is not None else 2**63)) if "occurred_at" in order else None
    rows.sort(key=key, reverse=order.startswith("-"))
    found = Rows(rows[:limit])
    found.truncated = len(rows) > limit
    return found


def actions_by_model(actor, model_id: str, *, project_key: str = "", since=None, until=None, limit: int = 500):
    """Every entry whose primary actor is the model (newest first)."""
    if not model_id or not str(model_id).strip():
        raise ValidationFailed({"model_id": ["This field is required."]})
    q = Q(actor_ref=f"model:{str(model_id).strip()}")
    q &= _window(since, until)
    if project_key:
        q &= Q(project_key=project_key)
    return _both(actor, q, order="-occurred_at", limit=_limit(limit))


def decision_chain(actor, task_id: str, *, project_key: str = "", limit: int = 500):
    """Entries of a task in time order (the seed's "trace decision chain for a specific outcome")."""
    if not task_id or not str(task_id).strip():
        raise ValidationFailed({"task_id": ["This field is required."]})
    q = Q(task_id=str(task_id).strip())
    if project_key:
        q &= Q(project_key=project_key)
    return _both(actor, q, order="occurred_at", limit=_limit(limit))


def _window(since, until) -> Q:
    q = Q()
    if since is not None:
        q &= Q(occurred_at__gte=since)
    if until is not None:
        q &= Q(occurred_at__lt=until)
    return q


def violations_between(actor, start: dt.datetime, end: dt.datetime, *, project_key: str = "", limit: int = 500):
    """Violation entries that occurred in [start, end), oldest first."""
    if start is None or end is None:
        raise ValidationFailed({"start" if start is None else "end": ["This field is required."]})
    if end <= start:
        raise ValidationFailed({"end": ["Must be after start."]})
    q = Q(entry_type=EntryType.VIOLATION) & _window(start, end)
    if project_key:
        q &= Q(project_key=project_key)
    return _both(actor, q, order="occurred_at", limit=_limit(limit))


def responsibility_chain(actor, entry_id: str) -> dict:
    """Who was responsible for an entry (primary actor, delegator, approver, oversight) as corrected,
    and the same for each parent entry up the delegation chain."""
    entry = entry_get(actor, entry_id)
    links, seen = [], set()
    current = entry
    while current is not None and current.entry_id not in seen and len(links) < 20:
        seen.add(current.entry_id)
        doc, corrections = effective_document(current)
        if doc is None:
            links.append({"entry_id": current.entry_id, "purged": True, "responsibility_chain": [current.actor_ref]})
            break
        acct = doc["accountability"]
        links.append(
            {
                "entry_id": current.entry_id,
                "entry_type": current.entry_type,
                "timestamp": doc["timestamp"],
                "responsibility_chain": acct["responsibility_chain"],
                "responsibility": acct["responsibility"],
                "human_oversight": acct["human_oversight"],
                "reversibility": acct["reversibility"],
                "attribution_gaps": current.gaps,
                "corrected_by": [c["entry_id"] for c in corrections],
            }
        )
        parent = doc["context"].get("parent_entry")
        try:
            current = entry_get(actor, parent) if parent else None
        except NotFound:  # a parent outside the actor's view ends the walk
            current = None
    return {"entry_id": entry.entry_id, "responsibility_chain": links[0]["responsibility_chain"], "links": links}
