"""Appending to the ledger. Callers run inside their own ``transaction.atomic`` block, so the entry
commits or rolls back together with the governance change it records."""

from __future__ import annotations

import hashlib
import json

from django.db import transaction
from django.utils import timezone
from ulid import ULID

from accountability.actors import actor_ref

from .models import LedgerEntry

GENESIS_HASH = "0" * 64


def subject_ref(obj) -> dict:
    """A copy of who/what a governance act touched, so it survives later deletions or renames."""
    ref = {"model": obj._meta.label, "pk": obj.pk, "repr": str(obj)[:200]}
    if getattr(obj, "public_id", ""):
        ref["public_id"] = obj.public_id
    latest = getattr(obj, "history", None)
    if latest is not None:
        row = latest.order_by("-history_id").values_list("history_id", flat=True).first()
        if row is not None:
            ref["history_id"] = row
    return ref


@transaction.atomic
def append_entry(
    *,
    entry_type: str,
    actor: dict,
    action: dict,
    context: dict | None = None,
    accountability: dict | None = None,
    project_key: str = "",
    trace_id: str = "",
) -> LedgerEntry:
    """Append one entry with the seed's schema and chain it to the previous one."""
    last = LedgerEntry.objects.select_for_update().order_by("-seq").first()
    seq = (last.seq + 1) if last else 1
    previous_hash = last.entry_hash if last else GENESIS_HASH
    entry = LedgerEntry(
        seq=seq,
        entry_id=f"LED-{ULID()}",
        entry_type=entry_type,
        project_key=project_key,
        trace_id=trace_id,
        occurred_at=timezone.now(),
        actor=actor,
        action=action,
        context=context or {},
        accountability=accountability or {},
        previous_hash=previous_hash,
    )
    body = json.dumps(
        {
            "seq": seq,
            "id": entry.entry_id,
            "type": entry_type,
            "project": project_key,
            "at": entry.occurred_at.isoformat(),
            "actor": actor,
            "action": action,
            "context": entry.context,
            "accountability": entry.accountability,
            "prev": previous_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    entry.entry_hash = hashlib.sha256(body.encode()).hexdigest()
    entry.save(force_insert=True)
    return entry


def record_governance(
    *,
    actor,
    project,
    action_type: str,
    description: str,
    subject=None,
    changes: dict | None = None,
    rationale: str = "",
    related: list | None = None,
) -> LedgerEntry:
    """Record a governance act (a service's change) as a Governance entry attributed to ``actor``."""
    who = actor_ref(actor)
    inputs = [{"changes": changes}] if changes else []
    return append_entry(
        entry_type=LedgerEntry.EntryType.GOVERNANCE,
        actor={"model_id": f"{who['kind']}:{who['name']}", "provider": "icdev", "session_id": "", "human": who},
        action={
            "type": action_type,
            "description": description,
            "inputs": inputs,
            "outputs": [subject_ref(subject)] if subject is not None else [],
            "rationale": rationale,
        },
        context={"task_id": "", "parent_entry": "", "related_models": related or []},
        accountability={
            "responsibility_chain": [f"{who['kind']}:{who['name']}"],
            "human_oversight": "full",
            "reversibility": "reversible",
        },
        project_key=getattr(project, "key", ""),
    )
