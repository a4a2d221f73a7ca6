"""Recording AI actions, decisions and interactions, violations, and corrections. Nothing is ever
updated in place: a correction (and a violation's investigation progress) is a new entry that links
to the one it amends."""

from __future__ import annotations

from django.db import transaction

from accountability.exceptions import Conflict, NotFound, ValidationFailed
from accountability.models import Project

from ..append import AppendResult, append_entry
from ..build import ENTRY_ID_RE, Errors, party
from ..model_signatures import require_unsigned_allowed, verify_submission
from ..models import LedgerEntry, PendingEntry
from ..pii import minimise
from ..schema import AI_TYPES, EntryType, InvestigationStatus, Oversight, Reversibility, Severity
from ._common import default_owner, recorder_party, require_append


def ledger_entry_append(
    *,
    actor,
    project: Project,
    entry_type: str,
    performer: dict,
    action: dict,
    context: dict | None = None,
    accountability: dict | None = None,
    occurred_at=None,
    signed_record: dict | None = None,
) -> AppendResult:
    """Record what an AI system did (action, decision or interaction); failed policy checks append
    Violation entries automatically. No transaction of its own: ``append_entry`` makes the entry and
    its violations atomic, and stores it in one autocommitted statement when it can. ``signed_record``
    is the record exactly as submitted when it carries ``model_signatures``: the model's signature is
    checked before anything is written, and kept in the entry (the seed's integrity.signatures)."""
    require_append(actor, project)
    if entry_type not in AI_TYPES:
        raise ValidationFailed({"entry_type": ["One of: action, decision, interaction."]})
    signed = None
    if signed_record is not None:
        signed = verify_submission(record=signed_record, project_key=project.key)
        given = {"entry_type": entry_type, "actor": performer, "action": action}
        given |= {"context": context, "accountability": accountability}
        # The interfaces pass the fields of the record they verified; anything else is a caller's bug,
        # refused rather than recorded under a signature that does not cover it.
        differ = sorted(k for k, v in given.items() if signed_record.get(k) != v and (v or signed_record.get(k)))
        if differ:
            raise ValidationFailed({k: ["Differs from the signed record."] for k in differ})
    else:
        require_unsigned_allowed(project, performer)
    return append_entry(
        entry_type=entry_type,
        actor=performer,
        action=action,
        context=context,
        accountability=accountability,
        project_key=project.key,
        occurred_at=signed.occurred_at if signed is not None else occurred_at,
        signed=signed,
    )


@transaction.atomic
def violation_record(
    *,
    actor,
    project: Project,
    severity: str,
    violator,
    rule_violated: str,
    evidence_entry_ids: list[str],
    description: str,
    immediate_action: str = "",
    investigation_status: str = InvestigationStatus.OPEN,
    corrective_action: str = "",
    owner=None,
) -> AppendResult:
    """Record a policy breach (seed violation record); the evidence entries must exist in the project."""
    require_append(actor, project)
    return append_entry(
        entry_type=EntryType.VIOLATION,
        actor=recorder_party(actor),
        action={
            "type": "policy.violation",
            "description": f"{rule_violated}: {description}"[:4000],
            "rationale": "Recorded by a person responsible for the project.",
        },
        context={"related_entries": list(evidence_entry_ids or [])},
        accountability={
            "human_oversight": Oversight.FULL,
            "reversibility": Reversibility.REVERSIBLE,
            "responsibility": {"oversight": default_owner(actor, owner)},
        },
        project_key=project.key,
        violation={
            "severity": severity,
            "violator": violator,
            "rule_violated": rule_violated,
            "evidence": {"entry_ids": list(evidence_entry_ids or []), "description": description},
            "response": {
                "immediate_action": immediate_action,
                "investigation_status": investigation_status,
                "corrective_action": corrective_action,
            },
        },
    )


def _text(value, path):
    if not isinstance(value, str) or len(value) > 4000:
        raise ValidationFailed({path: ["A string of at most 4000 characters."]})
    return minimise(value.strip())


def _choice(choices):
    def check(value, path):
        if value not in choices.values:
            raise ValidationFailed({path: [f"One of: {', '.join(choices.values)}."]})
        return value

    return check


def _items(value, path):
    if not isinstance(value, list) or len(value) > 50 or not all(isinstance(v, str | dict) for v in value):
        raise ValidationFailed({path: ["A list of at most 50 strings or objects."]})
    return minimise(value)


def _entry_ids(value, path):
    if not isinstance(value, list) or not all(isinstance(v, str) and ENTRY_ID_RE.match(v) for v in value):
        raise ValidationFailed({path: ["A list of ledger entry ids (LED-…)."]})
    return value


def _party(value, path):
    errors = Errors()
    result = party(value, path, errors)
    if errors or result is None:
        raise ValidationFailed(dict(errors) or {path: ["A party {kind, id}."]})
    return result


# What a correction may amend, by the type of the entry it corrects (never ids, types, times or the
# payload's integrity fields: those are facts of the log).
_AI_FIELDS = {
    "action.description": _text,
    "action.rationale": _text,
    "action.inputs": _items,
    "action.outputs": _items,
    "action.factors": _items,
    "action.alternatives": _items,
    "context.task_id": _text,
    "accountability.human_oversight": _choice(Oversight),
    "accountability.reversibility": _choice(Reversibility),
    "accountability.responsibility.delegator": _party,
    "accountability.responsibility.approver": _party,
    "accountability.responsibility.oversight": _party,
}
AMENDABLE = {
    **dict.fromkeys(AI_TYPES, _AI_FIELDS),
    EntryType.VIOLATION: {
        "violation.severity": _choice(Severity),
        "violation.rule_violated": _text,
        "violation.evidence.description": _text,
        "violation.evidence.entry_ids": _entry_ids,
        "violation.response.immediate_action": _text,
        "violation.response.investigation_status": _choice(InvestigationStatus),
        "violation.response.corrective_action": _text,
    },
    EntryType.GOVERNANCE: {"action.description": _text, "action.rationale": _text},
}


def _target(entry_id: str):
    if not isinstance(entry_id, str) or not ENTRY_ID_RE.match(entry_id):
        raise ValidationFailed({"corrects": ["A ledger entry id (LED-…)."]})
    for model in (LedgerEntry, PendingEntry):
        found = model.objects.filter(entry_id=entry_id).first()
        if found is not None:
            return found
    raise NotFound(f"No ledger entry {entry_id}.")


@transaction.atomic
def correction_record(
    *,
    actor,
    corrects: str,
    reason: str,
    amendments: dict | None = None,
    retract: bool = False,
    owner=None,
) -> AppendResult:
    """Acknowledge and fix an error: append a Correction entry linked (by seq and hash) to the entry it
    amends, which stays exactly as it was. Needs ``ledger.append`` in the entry's project."""
    target = _target(corrects)
    project = Project.objects.filter(key=target.project_key).first() if target.project_key else None
    require_append(actor, project)
    if target.entry_type == EntryType.CORRECTION:
        raise ValidationFailed({"corrects": ["Correct the original entry, not a correction."]})
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed({"reason": ["Say what was wrong."]})
    amendments = amendments or {}
    if not isinstance(amendments, dict):
        raise ValidationFailed({"amendments": ["An object of field path: new value."]})
    if not amendments and not retract:
        raise ValidationFailed({"amendments": ["Amend at least one field, or retract the entry."]})
    allowed = AMENDABLE.get(target.entry_type, {})
    unknown = sorted(set(amendments) - set(allowed))
    if unknown:
        raise ValidationFailed(
            {f"amendments.{p}": [f"Cannot be amended on a {target.entry_type} entry."] for p in unknown}
        )
    if target.payload is None and amendments:
        raise Conflict(f"{corrects} was purged under its retention schedule; only a retraction can be recorded.")
    clean = {path: allowed[path](value, f"amendments.{path}") for path, value in amendments.items()}
    return append_entry(
        entry_type=EntryType.CORRECTION,
        actor=recorder_party(actor),
        action={
            "type": "ledger.correct",
            "description": f"Correction of {corrects}: {reason.strip()}"[:4000],
            "rationale": reason.strip()[:4000],
        },
        context={"parent_entry": corrects, "task_id": target.task_id, "trace_id": target.trace_id},
        accountability={
            "human_oversight": Oversight.FULL,
            "reversibility": Reversibility.REVERSIBLE,
            "responsibility": {"oversight": default_owner(actor, owner)},
        },
        project_key=target.project_key,
        correction={
            "corrects": corrects,
            "reason": minimise(reason.strip()),
            "amendments": clean,
            "retracted": bool(retract),
        },
    )


@transaction.atomic
def violation_update(
    *,
    actor,
    violation_entry_id: str,
    investigation_status: str | None = None,
    corrective_action: str | None = None,
    immediate_action: str | None = None,
    note: str,
) -> AppendResult:
    """Move a violation's investigation on: a correction amending its response (never an update)."""
    target = _target(violation_entry_id)
    if target.project_key:
        require_append(actor, Project.objects.get(key=target.project_key))
    if target.entry_type != EntryType.VIOLATION:
        raise ValidationFailed({"violation": [f"{violation_entry_id} is not a violation entry."]})
    amendments = {}
    if investigation_status is not None:
        amendments["violation.response.investigation_status"] = investigation_status
    if corrective_action is not None:
        amendments["violation.response.corrective_action"] = corrective_action
    if immediate_action is not None:
        amendments["violation.response.immediate_action"] = immediate_action
    return correction_record(actor=actor, corrects=violation_entry_id, reason=note, amendments=amendments)
