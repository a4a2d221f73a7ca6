"""Appending to the ledger. Callers run inside their own ``transaction.atomic`` block, so the entry
commits or rolls back together with the change it records. ``entry_id`` is final at append time
(even while a PostgreSQL append waits in the queue), so callers can link to it at once."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

import rfc8785
from django.db import models, transaction

from accountability.actors import actor_ref
from accountability.exceptions import ValidationFailed

from . import alone, policy
from .build import ENTRY_ID_RE, Built, build, system_party
from .model_signatures import refuse_replay
from .schema import AI_TYPES, EntryType, InvestigationStatus, Oversight, Reversibility, accountable_owner, party_ref
from .store import store

POLICY_ACTOR = "ledger:policy"


@dataclass
class AppendResult:
    """What an append returns: the final entry id, and the seq once integrated (inline appends)."""

    entry_id: str
    entry_type: str
    seq: int | None
    project_key: str = ""
    violations: list[str] = field(default_factory=list)

    @property
    def is_integrated(self) -> bool:
        return self.seq is not None


def _plain(value):
    """Governance payloads from services: make dates, decimals, floats and rows JSON-safe for JCS."""
    if isinstance(value, models.Model):
        return getattr(value, "public_id", "") or value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return str(value)  # JCS forbids floats in our schema; a decimal string is exact
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1:
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _history_digest(record) -> str:
    """SHA-256 of the historical row's values (JCS): anchors simple-history rows in the ledger, so a
    later edit of a history row shows up as a mismatch (ledger.md §5.9)."""
    values = {f.attname: _plain(getattr(record, f.attname)) for f in record._meta.concrete_fields}
    return hashlib.sha256(rfc8785.dumps(values)).hexdigest()


def subject_ref(obj) -> dict:
    """A copy of who/what a governance act touched, so it survives later deletions or renames."""
    ref = {"model": obj._meta.label, "pk": _plain(obj.pk), "repr": str(obj)[:200]}
    if getattr(obj, "public_id", ""):
        ref["public_id"] = obj.public_id
    history = getattr(obj, "history", None)
    if history is not None:
        record = history.order_by("-history_id").first()
        if record is not None:
            ref["history_id"] = record.history_id
            ref["history_sha256"] = _history_digest(record)
    return ref


def append_entry(
    *,
    entry_type: str,
    actor,
    action: dict,
    context: dict | None = None,
    accountability: dict | None = None,
    project_key: str = "",
    trace_id: str = "",
    occurred_at=None,
    violation: dict | None = None,
    correction: dict | None = None,
    signed=None,
) -> AppendResult:
    """Validate, minimise and append one entry; AI records (action, decision, interaction) are policy
    checked, and each failed check appends a Violation entry linked to it, in the same transaction.
    ``signed`` is a model's verified signature on the record (``model_signatures.Signed``)."""
    built = build(
        entry_type=entry_type,
        actor=actor,
        action=action,
        context=context,
        accountability=accountability,
        project_key=project_key,
        trace_id=trace_id,
        occurred_at=occurred_at,
        violation=violation,
        correction=correction,
        model_signatures=[signed.stored] if signed is not None else None,
    )
    if signed is not None and (party_ref(built.actor), built.occurred_at) != (signed.actor_ref, signed.occurred_at):
        raise ValidationFailed({"model_signatures": ["The signature covers another actor or time than this entry's."]})
    prepared = built.prepared()
    if alone.possible(built) and alone.append(built, prepared):
        return AppendResult(built.entry_id, built.entry_type, None, built.project_key)
    with transaction.atomic():
        if signed is not None:
            refuse_replay(signed)
        return _append_checked(built, prepared)


def _append_checked(built: Built, prepared) -> AppendResult:
    """The general path, inside a transaction: reference checks, the store, the policy checks and a
    Violation entry per finding."""
    if built.entry_type in (EntryType.VIOLATION, EntryType.CORRECTION):
        _require_references(built)
    ai = built.entry_type in AI_TYPES
    # The invitation check's grant lookup travels with the write (one round trip on PostgreSQL).
    grants = policy.grant_query(built, prepared.occurred_at) if ai else None
    seq, grant_rows = store(prepared, read=grants)
    result = AppendResult(built.entry_id, built.entry_type, seq, built.project_key)
    if ai:
        for finding in policy.run_checks(built, prepared.occurred_at, grant_rows if grants else None):
            result.violations.append(_record_finding(built, finding).entry_id)
    return result


def _require_references(built: Built) -> None:
    """Violations and corrections are evidence: what they cite must exist (or the input is wrong)."""
    wanted = [*built.references, *([built.corrects] if built.corrects else [])]
    missing = sorted(set(wanted) - policy.resolve_references(wanted, built.project_key))
    if missing:
        path = "correction.corrects" if built.corrects in missing else "violation.evidence.entry_ids"
        raise ValidationFailed({path: [f"No entry {', '.join(missing)} in this project's ledger."]})


def _record_finding(built: Built, finding: policy.Finding) -> AppendResult:
    owner = accountable_owner(built.responsibility) or {"kind": "org", "id": built.project_key or "ledger"}
    return append_entry(
        entry_type=EntryType.VIOLATION,
        actor=system_party(POLICY_ACTOR),
        action={
            "type": "policy.violation",
            "description": f"{finding.rule} failed for {built.entry_id}: {finding.description}",
            "rationale": "Recorded automatically by the ledger's policy checks on append.",
        },
        context={
            "task_id": built.document["context"]["task_id"],
            "parent_entry": built.entry_id,
            "trace_id": built.document["context"]["trace_id"],
        },
        accountability={
            "human_oversight": Oversight.FULL,
            "reversibility": Reversibility.REVERSIBLE,
            "responsibility": {"oversight": owner},
        },
        project_key=built.project_key,
        violation={
            "severity": finding.severity,
            "violator": built.actor,
            "rule_violated": finding.rule,
            "evidence": {"entry_ids": [built.entry_id], "description": finding.description},
            "response": {
                "immediate_action": "Recorded and flagged for review; the action itself was already taken.",
                "investigation_status": InvestigationStatus.OPEN,
                "corrective_action": "",
            },
        },
    )


def record_governance(
    *,
    actor,
    project,
    action_type: str,
    description: str,
    subject=None,
    changes: dict | None = None,
    rationale: str = "",
    related: list | dict | None = None,
) -> AppendResult:
    """Record a governance act (a service's change) as a Governance entry attributed to ``actor``."""
    who = actor_ref(actor)
    party = {"kind": who["kind"], "id": who["name"]}  # persons are tokenised by the builder
    items = list(related.values()) if isinstance(related, dict) else list(related or [])
    # Ledger entry ids become references (checked like any other); anything else is a related model.
    refs = [str(r) for r in items if ENTRY_ID_RE.match(str(r))]
    context = {"related_models": [str(r) for r in items if str(r) not in refs], "related_entries": refs}
    return append_entry(
        entry_type=EntryType.GOVERNANCE,
        actor=party,
        action={
            "type": action_type,
            "description": str(description)[:4000],
            "inputs": [{"changes": _plain(changes)}] if changes else [],
            "outputs": [subject_ref(subject)] if subject is not None else [],
            "rationale": str(rationale or "")[:4000],
        },
        context=context,
        project_key=getattr(project, "key", "") or "",
    )
