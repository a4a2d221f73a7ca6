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

import functools
import json
from dataclasses import dataclass

from django.db.models import Q

from .models import LedgerEntry, PendingEntry, ScopeGrant, covers
from .schema import OVERSIGHT_LEVELS, Reversibility, Severity
from .store import execute


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


def grant_source(project: str, model: str, at: str) -> str:
    """``FROM … WHERE`` of the scope grants of model ``model`` in project ``project`` live at time
    ``at``, each an SQL expression (a placeholder or a column): one text for the invitation check's
    own query and for the statements that fold it into a write (``alone``, ``intake``)."""
    grant = ScopeGrant._meta.db_table
    projects = ScopeGrant._meta.get_field("project").related_model._meta.db_table
    return (
        f"FROM {grant} g JOIN {projects} p ON p.id = g.project_id "
        f"WHERE p.key = {project} AND g.model_id = {model} AND g.granted_at <= {at} "
        f"AND (g.revoked_at IS NULL OR g.revoked_at > {at}) AND (g.expires_at IS NULL OR g.expires_at > {at})"
    )


def grant_patterns_sql(project: str, model: str, at: str) -> str:
    """A scalar subquery: the live grants' action-type patterns as one jsonb array in a fixed order,
    so that two readings of the same grants compare equal (the append's guard)."""
    return (
        "(SELECT COALESCE(jsonb_agg(g.action_types ORDER BY g.action_types::text), '[]'::jsonb) "
        f"{grant_source(project, model, at)})"
    )


def grants_change_sql(project: str, model: str, after: str, until: str) -> str:
    """A boolean subquery: whether the set of the model's live grants (``grant_source``) changes at
    some time in (``after``, ``until``]: a grant starts, is revoked or expires then. When it does
    not, the grants live at ``after`` are the grants live at every time up to ``until``."""
    grant = ScopeGrant._meta.db_table
    projects = ScopeGrant._meta.get_field("project").related_model._meta.db_table
    spans = " OR ".join(f"(g.{c} > {after} AND g.{c} <= {until})" for c in ("granted_at", "revoked_at", "expires_at"))
    return (
        f"EXISTS (SELECT 1 FROM {grant} g JOIN {projects} p ON p.id = g.project_id "  # noqa: S608
        f"WHERE p.key = {project} AND g.model_id = {model} AND ({spans}))"
    )


@functools.lru_cache(maxsize=1)
def _grant_sql() -> str:
    return f"SELECT g.action_types {grant_source('%s', '%s', '%s')}"


def grant_query(built, occurred_at) -> tuple[str, list] | None:
    """The query for the action-type patterns of the model's grants live at ``occurred_at`` (None
    when the actor is not a model: the invitation check does not apply). Plain SQL: this runs on
    every AI append, and the store folds it into the append's own statement where it can."""
    if built.actor.get("kind") != "model":
        return None
    return _grant_sql(), [built.project_key, built.actor["id"], occurred_at, occurred_at, occurred_at]


def _patterns(rows) -> list[list[str]]:
    return [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in rows]


def check_invitation(built, occurred_at, grant_rows: list | None = None) -> list[Finding]:
    """An unrevoked, unexpired scope grant for the model covers the action type at the time it
    occurred. ``grant_rows``: the rows of ``grant_query`` when the caller has already run it."""
    query = grant_query(built, occurred_at)
    if query is None:
        return []
    if grant_rows is None:
        grant_rows = execute(*query, fetch="all")
    action_type = built.document["action"]["type"]
    if any(covers(p, action_type) for p in _patterns(grant_rows)):
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
    # One statement, so one snapshot: with two, an entry the integrator moved from the queue into the
    # log between them would be in neither answer.
    # (Unordered: SQLite allows no ORDER BY inside a UNION, and the models have default orderings.)
    integrated = LedgerEntry.objects.filter(scope).order_by().values_list("entry_id", flat=True)
    pending = PendingEntry.objects.filter(scope).order_by().values_list("entry_id", flat=True)
    return set(integrated.union(pending))


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


def run_checks(built, occurred_at, grant_rows: list | None = None) -> list[Finding]:
    """All checks, in a stable order (``grant_rows`` as for ``check_invitation``)."""
    return [*check_consent(built), *check_invitation(built, occurred_at, grant_rows), *check_integrity(built)]
