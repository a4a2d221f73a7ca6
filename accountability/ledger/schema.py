"""The entry schema of seed 002: record types and their retention, parties and responsibility
attribution, the four human-oversight levels and what each requires of an entry."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import models


class EntryType(models.TextChoices):
    ACTION = "action", "Action"
    DECISION = "decision", "Decision"
    INTERACTION = "interaction", "Interaction"
    GOVERNANCE = "governance", "Governance"
    VIOLATION = "violation", "Violation"
    CORRECTION = "correction", "Correction"


class Oversight(models.TextChoices):
    FULL = "full", "Full"
    SELECTIVE = "selective", "Selective"
    AUDIT = "audit", "Audit"
    MINIMAL = "minimal", "Minimal"


class Reversibility(models.TextChoices):
    REVERSIBLE = "reversible", "Reversible"
    PARTIAL = "partial", "Partially reversible"
    IRREVERSIBLE = "irreversible", "Irreversible"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class InvestigationStatus(models.TextChoices):
    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    CONTAINED = "contained", "Contained"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


# Seed 002 §1: Action 90 days, Decision 1 year, Interaction 90 days; the rest is permanent.
RETENTION = {
    EntryType.ACTION: "P90D",
    EntryType.DECISION: "P1Y",
    EntryType.INTERACTION: "P90D",
    EntryType.GOVERNANCE: "PERMANENT",
    EntryType.VIOLATION: "PERMANENT",
    EntryType.CORRECTION: "PERMANENT",
}
AI_TYPES = frozenset({EntryType.ACTION, EntryType.DECISION, EntryType.INTERACTION})
# Types that must name an accountable owner (a person or an organisation) or are rejected.
OWNER_REQUIRED = frozenset({EntryType.DECISION, EntryType.VIOLATION, EntryType.CORRECTION})


def expires_at(entry_type: str, occurred_at: dt.datetime) -> dt.datetime | None:
    """When the entry's payload may be purged (None: permanent)."""
    retention = RETENTION[entry_type]
    if retention == "P90D":
        return occurred_at + dt.timedelta(days=90)
    if retention == "P1Y":
        try:
            return occurred_at.replace(year=occurred_at.year + 1)
        except ValueError:  # 29 February
            return occurred_at.replace(year=occurred_at.year + 1, day=28)
    return None


@dataclass(frozen=True)
class OversightLevel:
    """What a human-oversight level (seed 002) requires of an entry recorded under it."""

    level: str
    description: str
    logging_detail: str
    approver: str  # "always", "flagged" (irreversible, partial or flagged actions) or "never"
    oversight_party: bool  # a named human with review responsibility
    required_fields: tuple[str, ...]  # action fields that must be non-empty
    forbidden_fields: tuple[str, ...]  # fields a summary-only level does not log
    irreversible_allowed: bool

    def needs_approver(self, *, reversibility: str, flagged: bool) -> bool:
        if self.approver == "always":
            return True
        if self.approver == "flagged":
            return flagged or reversibility != Reversibility.REVERSIBLE
        return False


OVERSIGHT_LEVELS = {
    Oversight.FULL: OversightLevel(
        "full",
        "Human reviews all actions",
        "maximum",
        "always",
        True,
        ("description", "rationale", "inputs", "outputs"),
        (),
        True,
    ),
    Oversight.SELECTIVE: OversightLevel(
        "selective",
        "Human reviews flagged actions",
        "high",
        "flagged",
        True,
        ("description", "rationale", "outputs"),
        (),
        True,
    ),
    Oversight.AUDIT: OversightLevel(
        "audit",
        "Human can review on demand",
        "standard",
        "never",
        True,
        ("description", "rationale"),
        (),
        True,
    ),
    Oversight.MINIMAL: OversightLevel(
        "minimal",
        "Routine operations only",
        "summary",
        "never",
        False,
        ("description",),
        ("inputs", "outputs", "factors", "alternatives"),
        False,
    ),
}


# --- parties ---------------------------------------------------------------------------------------

PARTY_KINDS = ("model", "user", "org", "system")
OWNER_KINDS = frozenset({"user", "org"})  # an accountable human or legal entity
ROLES = ("primary_actor", "delegator", "approver", "oversight")
ACTION_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(?:[.:-][a-z0-9_]+)*$")
TRACE_ID_RE = re.compile(r"^[0-9a-f]{32}$")

MAX_KEY = 2**63 - 1  # seq, tree sizes and queue ids are PostgreSQL bigints


def parse_key(text: str) -> int | None:
    """A seq, tree size or queue id typed as text (ASCII digits, at most 64 bits), else None: a larger
    number would fail in the database instead of finding nothing."""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_KEY:
        return None
    return int(text)


def party_ref(party: dict | None) -> str:
    """``kind:id`` of a party, as it appears in responsibility chains and the actor index."""
    if not party:
        return ""
    return f"{party['kind']}:{party['id']}"


def accountable_owner(responsibility: dict) -> dict | None:
    """The accountable owner: the approver, else the oversight party, when a person or organisation."""
    for role in ("approver", "oversight"):
        party = responsibility.get(role)
        if party and party.get("kind") in OWNER_KINDS:
            return party
    return None


def attribution_gaps(entry_type: str, actor: dict, responsibility: dict, oversight: str) -> list[str]:
    """Reason codes for a responsibility chain that does not cover the roles its type needs
    (accountable owner, AI system with model version, the reviewer its oversight level names)."""
    gaps = []
    if entry_type == EntryType.GOVERNANCE:
        return gaps  # the acting person or system is accountable for a governance act by definition
    if accountable_owner(responsibility) is None:
        gaps.append("no_accountable_owner")
    if actor.get("kind") == "model" and not actor.get("model_version"):
        gaps.append("no_model_version")
    level = OVERSIGHT_LEVELS.get(oversight)
    if level is not None and level.oversight_party and not responsibility.get("oversight"):
        gaps.append("no_oversight_party")
    return gaps
