"""Policy checks on append (seed 002 "Codex Law Compliance", in our terms). Each returns findings;
the append records one Violation entry per finding, in the same transaction, and keeps the original
entry: the ledger records what happened, including what should not have.

- consent: an authorising human approver is recorded when the oversight level requires one, and
  minimal oversight covers routine (reversible) operations only;
- invitation: the action is within the scope a human granted the model in this project (ScopeGrant);
- integrity: the entry's references (parent entry, related entries) resolve to entries of the project.
GROWTH ("does the action support beneficial growth?") is a judgement, not a check a machine can make:
ethics reviews cover it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from .models import LedgerEntry, PendingEntry, ScopeGrant
from .schema import OVERSIGHT_LEVELS, Reversibility, Severity


@dataclass(frozen=True)
class Finding:
    rule: str  # stable ids: codex.consent, codex.invitation, codex.integrity
    severity: str
    description: str


def _escalate(built, base: str) -> str:
    return Severity.HIGH if built.reversibility == Reversibility.IRREVERSIBLE else base


def check_consent(built) -> list[Finding]:
    """An approver who is a person, when the entry's oversight level requires one."""
    level = OVERSIGHT_LEVELS[built.oversight]
    findings = []
    approver = built.responsibility.get("approver")
    if level.needs_approver(reversibility=built.reversibility, flagged=built.flagged) and (
        approver is None or approver.get("kind") != "user"
    ):
        why = "every action" if level.approver == "always" else "flagged, partial or irreversible actions"
        findings.append(
            Finding(
                "codex.consent",
                _escalate(built, Severity.MEDIUM),
                f"No human approver is recorded, and '{built.oversight}' oversight requires one for {why}.",
            )
        )
    if not level.irreversible_allowed and built.reversibility != Reversibility.REVERSIBLE:
        findings.append(
            Finding(
                "codex.consent",
                Severity.HIGH,
                f"A {built.reversibility} action was taken under minimal oversight, which covers routine, "
                "reversible operations only.",
            )
        )
    return findings


def check_invitation(built, occurred_at) -> list[Finding]:
    """An unrevoked, unexpired scope grant for the model covers the action type at the time it occurred."""
    if built.actor.get("kind") != "model":
        return []
    grants = ScopeGrant.objects.filter(
        project__key=built.project_key,
        model_id=built.actor["id"],
        granted_at__lte=occurred_at,
    ).filter(
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=occurred_at),
        Q(expires_at__isnull=True) | Q(expires_at__gt=occurred_at),
    )
    action_type = built.document["action"]["type"]
    if any(g.covers(action_type) for g in grants):
        return []
    return [
        Finding(
            "codex.invitation",
            _escalate(built, Severity.MEDIUM),
            f"{built.actor['id']} has no scope grant in {built.project_key or 'this ledger'} covering "
            f"'{action_type}' at {built.document['timestamp']}.",
        )
    ]


def resolve_references(ids: list[str], project_key: str) -> set[str]:
    """The subset of ``ids`` that name entries (integrated or pending) of the project or the ledger."""
    if not ids:
        return set()
    scope = Q(entry_id__in=ids) & (Q(project_key=project_key) | Q(project_key=""))
    found = set(LedgerEntry.objects.filter(scope).values_list("entry_id", flat=True))
    return found | set(PendingEntry.objects.filter(scope).values_list("entry_id", flat=True))


def check_integrity(built) -> list[Finding]:
    """Every referenced entry exists in this project's ledger."""
    missing = sorted(set(built.references) - resolve_references(built.references, built.project_key))
    if not missing:
        return []
    return [
        Finding(
            "codex.integrity",
            Severity.LOW,
            f"References that do not resolve in {built.project_key or 'the ledger'}: {', '.join(missing)}.",
        )
    ]


def run_checks(built, occurred_at) -> list[Finding]:
    """All checks, in a stable order."""
    return [*check_consent(built), *check_invitation(built, occurred_at), *check_integrity(built)]
