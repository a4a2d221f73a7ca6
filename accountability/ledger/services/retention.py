"""Retention (seed 002 schedule; ledger.md §5.6): once an entry expires, its payload and salt are set
to NULL and a Governance purge record is appended. Leaves, tree and checkpoints are untouched, so
verification still passes, and without the salt the remaining hash reveals nothing."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accountability.actors import SystemActor
from accountability.exceptions import Conflict, NotAllowed, ValidationFailed
from accountability.permissions import is_unrestricted

from ..append import append_entry
from ..models import LedgerEntry
from ..offline.formats import PURGE_ACTION, format_time
from ..offline.merkle import root_of
from ..schema import RETENTION, EntryType, Oversight, Reversibility
from ._common import recorder_party

PURGER = SystemActor("celery:ledger_purge")
POLICY_VERSION = "seed-002/v1"


@dataclass
class PurgeResult:
    count: int
    seq_ranges: list[list[int]] = field(default_factory=list)
    record_entry_id: str = ""
    dry_run: bool = False


def _ranges(seqs: list[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for s in seqs:
        if ranges and ranges[-1][1] == s - 1:
            ranges[-1][1] = s
        else:
            ranges.append([s, s])
    return ranges


@transaction.atomic
def ledger_purge(*, actor=PURGER, entry_ids: list[str] | None = None, limit: int = 10000, dry_run: bool = False):
    """Purge the payloads of expired entries (all of them, up to ``limit``, or exactly ``entry_ids``)
    and record the purge; an entry that has not expired is refused and nothing is purged."""
    if not is_unrestricted(actor):
        raise NotAllowed("Only the retention job and superusers purge ledger payloads.")
    now = timezone.now()
    live = LedgerEntry.objects.select_for_update().filter(payload__isnull=False).only("seq", "entry_id", "expires_at")
    if entry_ids:
        rows = list(live.filter(entry_id__in=entry_ids).order_by("seq"))
        missing = sorted(set(entry_ids) - {r.entry_id for r in rows})
        if missing:
            raise ValidationFailed({"entry_ids": [f"No integrated entry with a payload: {', '.join(missing)}."]})
        early = [r for r in rows if r.expires_at is None or r.expires_at > now]
        if early:
            r = early[0]
            until = "never (permanent record)" if r.expires_at is None else r.expires_at.isoformat()
            raise Conflict(f"{r.entry_id} has not expired (retention until {until}); its payload cannot be purged.")
    else:
        rows = list(live.filter(expires_at__lte=now).order_by("seq")[:limit])
    result = PurgeResult(count=len(rows), seq_ranges=_ranges([r.seq for r in rows]), dry_run=dry_run)
    if dry_run or not rows:
        return result
    hashes = dict(LedgerEntry.objects.filter(seq__in=[r.seq for r in rows]).values_list("seq", "entry_hash"))
    record = append_entry(
        entry_type=EntryType.GOVERNANCE,
        actor=recorder_party(actor),
        action={
            "type": PURGE_ACTION,
            "description": f"Retention purge of {len(rows)} expired payload(s)",
            "rationale": "Seed 002 retention: actions and interactions 90 days, decisions 1 year.",
        },
        context={
            "purge": {
                "seq_ranges": result.seq_ranges,
                "count": len(rows),
                "purged_at": format_time(now),
                "policy_version": POLICY_VERSION,
                "retention": dict(RETENTION),
                # An RFC 6962 root over the purged entries' hashes: one value that names exactly them.
                "entries_root": base64.b64encode(root_of([bytes(hashes[r.seq]) for r in rows])).decode(),
            }
        },
        accountability={"human_oversight": Oversight.AUDIT, "reversibility": Reversibility.IRREVERSIBLE},
    )
    updated = LedgerEntry.objects.filter(seq__in=[r.seq for r in rows], payload__isnull=False).update(
        payload=None, payload_salt=None, redacted_at=now, redacted_by=record.entry_id
    )
    if updated != len(rows):
        raise Conflict("Entries changed while purging; nothing was purged.")
    result.record_entry_id = record.entry_id
    return result
