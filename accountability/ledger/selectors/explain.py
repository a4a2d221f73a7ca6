"""Right to explanation (seed 002): a plain-language account of any entry: what happened, who was
responsible, the decision factors, the alternatives considered and the human oversight."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from ..keys import pii_keys, pii_token
from ..schema import OVERSIGHT_LEVELS, EntryType
from .entries import effective_document, entry_get

ROLE_WORDS = {
    "primary_actor": "performed by",
    "delegator": "delegated by",
    "approver": "approved by",
    "oversight": "under the oversight of",
}


class PersonNames:
    """Resolves HMAC tokens back to portal usernames for readers who may see them (tokens of people
    without an account stay opaque: only someone who knows the identifier can match it)."""

    def __init__(self):
        self._map: dict[str, str] | None = None

    def name(self, token: str) -> str | None:
        if self._map is None:
            self._map = {}
            keys = pii_keys()
            for username in get_user_model().objects.values_list("username", flat=True):
                for key in keys:
                    self._map[pii_token(username, key)] = username
        return self._map.get(token)


def describe_party(party: dict | None, names: PersonNames) -> str:
    """A party in words (persons by username when the reader can know it, else pseudonymised)."""
    if not party:
        return ""
    kind, ident = party.get("kind"), party.get("id", "")
    if kind == "user":
        username = names.name(ident)
        return f"user {username}" if username else "a person (identity pseudonymised)"
    if kind == "model":
        version = f" {party['model_version']}" if party.get("model_version") else ""
        provider = f" ({party['provider']})" if party.get("provider") else ""
        return f"AI model {ident}{version}{provider}"
    if kind == "org":
        return f"organisation {party.get('name') or ident}"
    return f"system {ident}"


def _listing(items: list) -> list[str]:
    return [i if isinstance(i, str) else ", ".join(f"{k}: {v}" for k, v in i.items()) for i in items]


def entry_explanation(actor, entry_id: str) -> dict:
    """The plain-language explanation of an entry, with the structured parts it is made of."""
    entry = entry_get(actor, entry_id)
    doc, corrections = effective_document(entry)
    names = PersonNames()
    when = entry.occurred_at.isoformat()
    if doc is None:
        text = (
            f"This {entry.entry_type} entry ({entry.entry_id}, {when}) was recorded by "
            f"{entry.actor_ref}. Its details were purged on {entry.redacted_at:%Y-%m-%d} under the "
            f"{entry.retention} retention schedule (purge record {entry.redacted_by}); the ledger still "
            "proves that it existed and was not altered."
        )
        return {"entry_id": entry.entry_id, "purged": True, "text": text, "corrections": corrections}
    action, acct = doc["action"], doc["accountability"]
    resp = acct["responsibility"]
    who = {role: describe_party(resp.get(role), names) for role in ROLE_WORDS if resp.get(role)}
    level = OVERSIGHT_LEVELS.get(acct["human_oversight"])
    oversight = (
        f"{acct['human_oversight']} oversight ({level.description.lower()}; {level.logging_detail} logging detail)"
        if level
        else acct["human_oversight"]
    )
    parts = [f"On {doc['timestamp']}, {who['primary_actor']} {_verb(entry.entry_type)}: {action['description']}."]
    parts += [f"It was {ROLE_WORDS[r]} {who[r]}." for r in ("delegator", "approver", "oversight") if r in who]
    if action.get("rationale"):
        parts.append(f"Why: {action['rationale']}")
    if action.get("factors"):
        parts.append("Decision factors: " + "; ".join(_listing(action["factors"])) + ".")
    if action.get("alternatives"):
        parts.append("Alternatives considered: " + "; ".join(_listing(action["alternatives"])) + ".")
    elif entry.entry_type == EntryType.DECISION:
        parts.append("No alternatives were recorded.")
    parts.append(f"Human oversight: {oversight}. The action is {acct['reversibility']}.")
    if "violation" in doc:
        v = doc["violation"]
        parts.append(
            f"Violation {v['violation_id']} ({v['severity']}) of {v['rule_violated']} by "
            f"{describe_party(v['violator'], names)}; investigation {v['response']['investigation_status']}."
        )
    if corrections:
        parts.append(f"Corrected {len(corrections)} time(s), latest by {corrections[-1]['entry_id']}.")
    if doc.get("retracted"):
        parts.append(f"Retracted: {doc['retracted']['reason']}")
    return {
        "entry_id": entry.entry_id,
        "purged": False,
        "text": " ".join(parts),
        "what_happened": action["description"],
        "responsible": who,
        "decision_factors": action.get("factors", []),
        "alternatives_considered": action.get("alternatives", []),
        "rationale": action.get("rationale", ""),
        "oversight": {"level": acct["human_oversight"], "description": oversight},
        "reversibility": acct["reversibility"],
        "corrections": corrections,
    }


def _verb(entry_type: str) -> str:
    return {
        EntryType.ACTION: "performed an action",
        EntryType.DECISION: "made a decision",
        EntryType.INTERACTION: "exchanged with another model",
        EntryType.GOVERNANCE: "recorded a governance act",
        EntryType.VIOLATION: "recorded a policy violation",
        EntryType.CORRECTION: "recorded a correction",
    }[entry_type]
