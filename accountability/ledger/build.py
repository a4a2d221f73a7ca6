"""Building entry documents (seed 002 schema) from writers' input: validation with field messages,
parties and responsibility attribution, oversight-level requirements, and data minimisation."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.utils import timezone
from ulid import ULID

from accountability.exceptions import ValidationFailed

from . import keys
from .offline.formats import FORMAT_VERSION, PURGE_ACTION, format_time
from .pii import minimise, tokenise
from .schema import (
    ACTION_TYPE_RE,
    AI_TYPES,
    OVERSIGHT_LEVELS,
    OWNER_REQUIRED,
    PARTY_KINDS,
    RETENTION,
    TRACE_ID_RE,
    EntryType,
    InvestigationStatus,
    Oversight,
    Reversibility,
    Severity,
    attribution_gaps,
    expires_at,
    party_ref,
)
from .store import Prepared, new_entry_id, prepare

ENTRY_ID_RE = re.compile(r"^LED-[0-9A-HJKMNP-TV-Z]{26}$")
# ``Choices.values`` builds a new list on every access; each append tests membership several times.
ENTRY_TYPES = frozenset(EntryType.values)
OVERSIGHT_VALUES = frozenset(Oversight.values)
REVERSIBILITY_VALUES = frozenset(Reversibility.values)
SEVERITY_VALUES = frozenset(Severity.values)
STATUS_VALUES = frozenset(InvestigationStatus.values)


def _one_of(value, choices: frozenset) -> bool:
    """Membership that also refuses unhashable input (a list sent where a choice belongs)."""
    return isinstance(value, str) and value in choices


# What writers may send (the rest is refused by name). Set differences against a constant skip
# building two sets per check.
ACTION_FIELDS = frozenset(
    {"type", "description", "inputs", "outputs", "rationale", "factors", "alternatives", "flagged"}
)
CONTEXT_FIELDS = frozenset(
    {"task_id", "parent_entry", "related_models", "related_entries", "trace_id", "policy_refs", "purge", "genesis"}
)
ACCOUNTABILITY_FIELDS = frozenset({"human_oversight", "reversibility", "responsibility", "responsibility_chain"})
PARTY_FIELDS = frozenset({"kind", "id", "provider", "model_version", "name", "session_id"})
RESPONSIBILITY_FIELDS = frozenset({"delegator", "approver", "oversight", "primary_actor"})

CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_TEXT = 4000
MAX_ITEMS = 50


@dataclass
class Built:
    """A validated document and what the store needs to index it."""

    document: dict
    entry_id: str
    entry_type: str
    project_key: str
    actor: dict
    responsibility: dict
    oversight: str
    reversibility: str
    flagged: bool
    references: list[str] = field(default_factory=list)
    corrects: str = ""
    gaps: list[str] = field(default_factory=list)
    occurred_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None  # computed once, by the validation of occurred_at
    signed: bool = False  # carries a model signature: checked for replays in the append's transaction

    def prepared(self) -> Prepared:
        """The document canonicalised and committed to, with the store's index columns."""
        doc = self.document
        return prepare(
            doc,
            entry_id=self.entry_id,
            entry_type=self.entry_type,
            project_key=self.project_key,
            actor_ref=party_ref(self.actor),
            action_type=doc["action"]["type"],
            occurred_at=self.occurred_at,
            expires_at=self.expires_at,
            trace_id=doc["context"].get("trace_id", ""),
            task_id=doc["context"].get("task_id", ""),
            oversight=self.oversight,
            reversibility=self.reversibility,
            gaps=self.gaps,
            corrects_entry_id=self.corrects,
        )


class Errors(dict):
    def add(self, path: str, message: str) -> None:
        self.setdefault(path, []).append(message)


def _text(value, path: str, errors: Errors, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(path, "Must be a string.")
        return ""
    value = value.strip()
    if required and not value:
        errors.add(path, "This field is required.")
    if len(value) > limit:
        errors.add(path, f"At most {limit} characters.")
    return value


def _list(value, path: str, errors: Errors, *, item_types=(str, dict)) -> list:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        errors.add(path, "Must be a list.")
        return []
    if len(value) > MAX_ITEMS:
        errors.add(path, f"At most {MAX_ITEMS} items.")
    for i, item in enumerate(value):
        if not isinstance(item, item_types) or (isinstance(item, str) and len(item) > MAX_TEXT):
            errors.add(f"{path}[{i}]", "Items are short strings" + (" or objects." if dict in item_types else "."))
    return list(value)


def party(value, path: str, errors: Errors, *, kinds=PARTY_KINDS) -> dict | None:
    """Normalise a party: {kind, id[, provider, model_version, name]}; persons become HMAC tokens."""
    if value in (None, "", {}):
        return None
    if isinstance(value, str):  # "model:claude-opus", "user:alice", "org:GSA"
        kind, sep, ident = value.partition(":")
        value = {"kind": kind, "id": ident} if sep else {"kind": "", "id": value}
    if not isinstance(value, dict):
        errors.add(path, "A party is an object {kind, id}.")
        return None
    # Read as a plain dict (a subclass may answer .get differently); copied only to be changed.
    data = value if type(value) is dict else dict(value)
    if "model_id" in data and "id" not in data:  # the seed's actor shape
        data = dict(data)
        data["id"] = data.pop("model_id")
        data.setdefault("kind", "model")
    kind = data.get("kind") or "model"
    if kind not in kinds:
        errors.add(f"{path}.kind", f"One of: {', '.join(kinds)}.")
        return None
    ident = _text(data.get("id"), f"{path}.id", errors, required=True, limit=200)
    if not ident:
        return None
    out = {"kind": kind, "id": tokenise(ident) if kind == "user" else ident}
    for extra in ("provider", "model_version", "name", "session_id"):
        if data.get(extra):
            out[extra] = _text(data.get(extra), f"{path}.{extra}", errors, limit=200)
    if kind == "user":
        out.pop("name", None)  # a person's name never enters the ledger in clear
    unknown = data.keys() - PARTY_FIELDS
    if unknown:
        errors.add(path, f"Unknown fields: {', '.join(sorted(unknown))}.")
    return out


def _occurred(value, entry_type: str, errors: Errors) -> tuple[dt.datetime, dt.datetime | None]:
    """When the entry happened (now unless given) and when its payload expires."""
    now = timezone.now()
    if value in (None, ""):
        return now, expires_at(entry_type, now)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            errors.add("occurred_at", "Not an ISO 8601 timestamp.")
            return now, None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        errors.add("occurred_at", "A timezone-aware timestamp is required.")
        return now, None
    if value > now + CLOCK_SKEW:
        errors.add("occurred_at", "Cannot be in the future.")
    expiry = expires_at(entry_type, value)
    if expiry is not None and expiry <= now:
        errors.add("occurred_at", f"Older than the {RETENTION[entry_type]} retention of a {entry_type} entry.")
    return value, expiry


def _object(value, path: str, errors: Errors) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add(path, "Must be an object.")
        return {}
    return value


def _entry_refs(value, path: str, errors: Errors) -> list[str]:
    refs = _list(value, path, errors, item_types=(str,))
    for i, ref in enumerate(refs):
        if isinstance(ref, str) and not ENTRY_ID_RE.match(ref):
            errors.add(f"{path}[{i}]", "Not a ledger entry id (LED-…).")
    return [r for r in refs if isinstance(r, str)]


def _responsibility(value, errors: Errors) -> dict:
    value = value or {}
    if not isinstance(value, dict):
        errors.add("accountability.responsibility", "An object with delegator, approver and oversight.")
        return {}
    unknown = value.keys() - RESPONSIBILITY_FIELDS
    if unknown:
        errors.add("accountability.responsibility", f"Unknown roles: {', '.join(sorted(unknown))}.")
    return {role: party(value.get(role), path, errors) for role, path in _ROLE_PATHS}


_ROLE_PATHS = tuple((role, f"accountability.responsibility.{role}") for role in ("delegator", "approver", "oversight"))


def chain_of(actor: dict, responsibility: dict) -> list[str]:
    """The seed's responsibility_chain: primary actor, delegator, approver, oversight (as present)."""
    parties = [actor, responsibility.get("delegator"), responsibility.get("approver"), responsibility.get("oversight")]
    return [party_ref(p) for p in parties if p]


def _base_document(
    *, entry_id, entry_type, project_key, occurred_at, actor, action, context, responsibility, oversight, reversibility
) -> dict:
    return {
        "schema_version": FORMAT_VERSION,
        "entry_id": entry_id,
        "timestamp": format_time(occurred_at),
        "entry_type": entry_type,
        "project": project_key,
        "actor": actor,
        "action": action,
        "context": context,
        "accountability": {
            "responsibility_chain": chain_of(actor, responsibility),
            "responsibility": {"primary_actor": actor, **responsibility},
            "human_oversight": oversight,
            "reversibility": reversibility,
        },
    }


def build(
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
    entry_id: str | None = None,
    model_signatures: list[dict] | None = None,
) -> Built:
    """Validate writer input into a seed-schema document; ValidationFailed lists every problem."""
    errors = Errors()
    if not _one_of(entry_type, ENTRY_TYPES):
        raise ValidationFailed({"entry_type": [f"One of: {', '.join(EntryType.values)}."]})
    ai = entry_type in AI_TYPES
    who = party(actor, "actor", errors, kinds=("model", "system") if ai else PARTY_KINDS)
    if who is None and "actor" not in errors:
        errors.add("actor", "This field is required.")
    action = _object(action, "action", errors)
    context = _object(context, "context", errors)
    acct = _object(accountability, "accountability", errors)

    action_type = _text(action.get("type"), "action.type", errors, required=True, limit=100)
    if action_type and not ACTION_TYPE_RE.match(action_type):
        errors.add("action.type", "Lower-case words joined by . : - or _ (e.g. code.review).")
    clean_action = {
        "type": action_type,
        "description": _text(action.get("description"), "action.description", errors, required=True),
        "inputs": _list(action.get("inputs"), "action.inputs", errors),
        "outputs": _list(action.get("outputs"), "action.outputs", errors),
        "rationale": _text(action.get("rationale"), "action.rationale", errors),
        "factors": _list(action.get("factors"), "action.factors", errors),
        "alternatives": _list(action.get("alternatives"), "action.alternatives", errors),
    }
    flagged = action.get("flagged", False)
    if not isinstance(flagged, bool):
        errors.add("action.flagged", "Must be true or false.")
        flagged = False
    clean_action["flagged"] = flagged
    unknown = action.keys() - ACTION_FIELDS
    if unknown:
        errors.add("action", f"Unknown fields: {', '.join(sorted(unknown))}.")

    trace = trace_id or context.get("trace_id") or ""
    if trace and (not isinstance(trace, str) or not TRACE_ID_RE.match(trace) or trace == "0" * 32):
        errors.add("context.trace_id", "A W3C trace id: 32 lower-case hex digits, not all zero.")
    parent = _text(context.get("parent_entry"), "context.parent_entry", errors, limit=30)
    if parent and not ENTRY_ID_RE.match(parent):
        errors.add("context.parent_entry", "Not a ledger entry id (LED-…).")
    clean_context = {
        "task_id": _text(context.get("task_id"), "context.task_id", errors, limit=200),
        "parent_entry": parent,
        "related_models": _list(context.get("related_models"), "context.related_models", errors, item_types=(str,)),
        "related_entries": _entry_refs(context.get("related_entries"), "context.related_entries", errors),
        "trace_id": trace if isinstance(trace, str) else "",
        "policy_refs": _list(context.get("policy_refs"), "context.policy_refs", errors, item_types=(str,)),
    }
    for key in ("purge", "genesis"):  # written by the ledger itself
        if key in context and not ai:
            clean_context[key] = context[key]
    unknown = context.keys() - CONTEXT_FIELDS
    if unknown:
        errors.add("context", f"Unknown fields: {', '.join(sorted(unknown))}.")

    default_oversight = "" if ai else Oversight.FULL
    oversight = acct.get("human_oversight") or default_oversight
    if not _one_of(oversight, OVERSIGHT_VALUES):
        errors.add("accountability.human_oversight", f"One of: {', '.join(Oversight.values)}.")
    reversibility = acct.get("reversibility") or ("" if ai else Reversibility.REVERSIBLE)
    if not _one_of(reversibility, REVERSIBILITY_VALUES):
        errors.add("accountability.reversibility", f"One of: {', '.join(Reversibility.values)}.")
    responsibility = _responsibility(acct.get("responsibility"), errors)
    chain = acct.get("responsibility_chain")
    if chain is not None and not (isinstance(chain, list) and all(isinstance(c, str) for c in chain)):
        errors.add("accountability.responsibility_chain", "A list of party ids.")
    unknown = acct.keys() - ACCOUNTABILITY_FIELDS
    if unknown:
        errors.add("accountability", f"Unknown fields: {', '.join(sorted(unknown))}.")

    level = OVERSIGHT_LEVELS.get(oversight)
    if ai and level is not None:
        for name in level.required_fields:
            if not clean_action.get(name):
                errors.add(
                    f"action.{name}",
                    f"Oversight level '{oversight}' logs {level.logging_detail} detail: {name} is required.",
                )
        for name in level.forbidden_fields:
            if clean_action.get(name):
                errors.add(f"action.{name}", f"Oversight level '{oversight}' logs a summary only: leave {name} out.")
    occurred, expiry = _occurred(occurred_at, entry_type, errors)
    if errors:
        raise ValidationFailed(dict(errors))

    gaps = attribution_gaps(entry_type, who, responsibility, oversight if ai else "")
    if entry_type in OWNER_REQUIRED and "no_accountable_owner" in gaps:
        raise ValidationFailed(
            {
                "accountability.responsibility": [
                    f"A {entry_type} entry needs an accountable owner: an approver or oversight party who is a "
                    "person (kind user) or an organisation (kind org)."
                ]
            }
        )
    if entry_type == EntryType.DECISION and gaps:
        # Decisions are complete by construction (ledger.md §5.8): every required role is named.
        raise ValidationFailed({"accountability.responsibility": [f"Incomplete attribution: {', '.join(gaps)}."]})

    entry_id = entry_id or new_entry_id()
    document = _base_document(
        entry_id=entry_id,
        entry_type=entry_type,
        project_key=project_key,
        occurred_at=occurred,
        actor=who,
        action=minimise(clean_action),
        context=minimise(clean_context),
        responsibility=responsibility,
        oversight=oversight,
        reversibility=reversibility,
    )
    if model_signatures:  # verified by model_signatures.verify_submission; the seed's integrity.signatures
        document["integrity"] = {"signatures": model_signatures}
    refs = ([parent] if parent else []) + clean_context["related_entries"]
    built = Built(
        document,
        entry_id,
        entry_type,
        project_key,
        who,
        responsibility,
        oversight,
        reversibility,
        flagged,
        refs,
        gaps=gaps,
        occurred_at=occurred,
        expires_at=expiry,
        signed=bool(model_signatures),
    )
    if violation is not None:
        document["violation"] = violation_block(violation, who)
        built.references += document["violation"]["evidence"]["entry_ids"]
    elif entry_type == EntryType.VIOLATION:
        raise ValidationFailed({"violation": ["A violation entry needs a violation record."]})
    if correction is not None:
        document["correction"] = correction
        built.corrects = correction["corrects"]
    elif entry_type == EntryType.CORRECTION:
        raise ValidationFailed({"correction": ["A correction entry needs the entry it corrects."]})
    return built


def _response_text(response: dict, name: str, errors: Errors) -> str:
    return _text(response.get(name), f"violation.response.{name}", errors)


def violation_block(data: dict, recorder: dict | None) -> dict:
    """The seed's violation record: id, severity, violator, rule, evidence and response."""
    errors = Errors()
    if not isinstance(data, dict):
        raise ValidationFailed({"violation": ["Must be an object."]})
    severity = data.get("severity")
    if not _one_of(severity, SEVERITY_VALUES):
        errors.add("violation.severity", f"One of: {', '.join(Severity.values)}.")
    violator = party(data.get("violator"), "violation.violator", errors)
    if violator is None and "violation.violator" not in errors:
        errors.add("violation.violator", "This field is required.")
    rule = _text(data.get("rule_violated"), "violation.rule_violated", errors, required=True, limit=200)
    evidence = data.get("evidence") or {}
    if not isinstance(evidence, dict):
        errors.add("violation.evidence", "An object with entry_ids and description.")
        evidence = {}
    entry_ids = _entry_refs(evidence.get("entry_ids"), "violation.evidence.entry_ids", errors)
    description = _text(evidence.get("description"), "violation.evidence.description", errors, required=True)
    response = data.get("response") or {}
    if not isinstance(response, dict):
        errors.add("violation.response", "An object.")
        response = {}
    status = response.get("investigation_status") or InvestigationStatus.OPEN
    if not _one_of(status, STATUS_VALUES):
        errors.add("violation.response.investigation_status", f"One of: {', '.join(InvestigationStatus.values)}.")
    block = {
        "violation_id": data.get("violation_id") or f"VIO-{ULID()}",
        "severity": severity,
        "violator": violator,
        "rule_violated": rule,
        "evidence": {"entry_ids": entry_ids, "description": minimise(description)},
        "response": {
            "immediate_action": minimise(_response_text(response, "immediate_action", errors)),
            "investigation_status": status,
            "corrective_action": minimise(_response_text(response, "corrective_action", errors)),
        },
    }
    if not re.match(r"^VIO-[0-9A-Z]{6,40}$", block["violation_id"]):
        errors.add("violation.violation_id", "VIO- followed by letters and digits.")
    if errors:
        raise ValidationFailed(dict(errors))
    return block


# --- documents the ledger writes itself ------------------------------------------------------------


def system_party(name: str) -> dict:
    """A party for a named system component (``ledger:policy``)."""
    return {"kind": "system", "id": name}


def genesis_prepared() -> Prepared:
    """The genesis entry (seq 0): which log this is and the rules every later entry follows."""
    now = timezone.now()
    entry_id = new_entry_id()
    actor = system_party("ledger:genesis")
    document = _base_document(
        entry_id=entry_id,
        entry_type=EntryType.GOVERNANCE,
        project_key="",
        occurred_at=now,
        actor=actor,
        action={
            "type": "ledger.genesis",
            "description": f"Genesis of the AI accountability ledger {keys.origin()}",
            "inputs": [],
            "outputs": [],
            "rationale": "Declares the log so that verifiers know its origin, formats and keys.",
            "factors": [],
            "alternatives": [],
            "flagged": False,
        },
        context={
            "task_id": "",
            "parent_entry": "",
            "related_models": [],
            "related_entries": [],
            "trace_id": "",
            "policy_refs": [],
            "genesis": {
                "origin": keys.origin(),
                "format_version": FORMAT_VERSION,
                "hash": "SHA-256",
                "tree": "RFC 6962 Merkle tree over entry hashes; tiles as c2sp.org/tlog-tiles",
                "entry_hash": "SHA-256(0x00 || leaf_bytes); leaf_bytes are RFC 8785 JSON",
                "payload_hash": "SHA-256('ai-ledger/payload/v1' || 0x00 || salt16 || RFC 8785 payload)",
                "checkpoints": "c2sp.org/tlog-checkpoint signed notes, Ed25519",
                "signing_keys": [s.verifier.vkey for s in keys.signers()],
                "pii": {"algorithm": "HMAC-SHA256", "token": "hmac:<kid>:<base64url>", "kid": keys.pii_keys()[0].kid},
                "retention": dict(RETENTION.items()),
            },
        },
        responsibility={"delegator": None, "approver": None, "oversight": None},
        oversight=Oversight.FULL,
        reversibility=Reversibility.IRREVERSIBLE,
    )
    return prepare(
        document,
        entry_id=entry_id,
        entry_type=EntryType.GOVERNANCE,
        project_key="",
        actor_ref="system:ledger:genesis",
        action_type="ledger.genesis",
        occurred_at=now,
        expires_at=None,
        oversight=Oversight.FULL,
        reversibility=Reversibility.IRREVERSIBLE,
    )


__all__ = ["PURGE_ACTION", "Built", "build", "chain_of", "genesis_prepared", "party", "system_party"]
