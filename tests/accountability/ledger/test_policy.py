"""Policy checks on append (consent, invitation, integrity) record Violation entries automatically,
and the four oversight levels ask of an entry what the seed says they do."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from accountability.exceptions import ValidationFailed
from accountability.ledger.models import LedgerEntry
from accountability.ledger.schema import OVERSIGHT_LEVELS
from accountability.ledger.selectors import entry_get
from accountability.ledger.services.entries import ledger_entry_append
from accountability.ledger.services.grants import scope_grant_create, scope_grant_revoke

from .conftest import SYSTEM, decision

OWNER = {"kind": "user", "id": "staff"}


def _acct(level, reversibility="reversible", **responsibility):
    return {
        "human_oversight": level,
        "reversibility": reversibility,
        "responsibility": {"oversight": OWNER, **responsibility},
    }


def _violations(result) -> list[dict]:
    return [entry_get(SYSTEM, v).document["violation"] for v in result.violations]


@pytest.mark.django_db
def test_an_entry_within_its_grant_and_oversight_passes(project, staff_user, grant, ledger_count):
    before = ledger_count()
    result = ledger_entry_append(actor=staff_user, project=project, **decision())
    assert result.violations == []
    assert ledger_count() == before + 1


@pytest.mark.django_db
def test_an_action_outside_the_granted_scope_is_recorded_with_an_invitation_violation(
    project, staff_user, grant, ledger_count, integrate
):
    before = ledger_count()
    result = ledger_entry_append(
        actor=staff_user,
        project=project,
        **decision(action={"type": "data.export", "description": "Exported data", "rationale": "asked"}),
    )
    assert ledger_count() == before + 2  # the action itself, and its violation
    [violation] = _violations(result)
    assert violation["rule_violated"] == "codex.invitation"
    assert violation["severity"] == "medium"
    assert violation["violator"]["id"] == "claude-opus"
    assert violation["evidence"]["entry_ids"] == [result.entry_id]
    assert violation["response"]["investigation_status"] == "open"
    assert violation["violation_id"].startswith("VIO-")
    integrate()
    row = LedgerEntry.objects.get(entry_id=result.violations[0])
    assert (row.entry_type, row.actor_ref, row.project_key) == ("violation", "system:ledger:policy", "proj-123")
    assert row.document["context"]["parent_entry"] == result.entry_id


@pytest.mark.django_db
def test_grants_invite_only_while_they_are_live(project, staff_user):
    t0 = timezone.now() - dt.timedelta(hours=3)
    with time_machine.travel(t0, tick=False):
        grant = scope_grant_create(
            actor=SYSTEM, project=project, model_id="claude-opus", action_types=["eligibility.*"]
        )
    with time_machine.travel(t0 + dt.timedelta(hours=2), tick=False):
        scope_grant_revoke(actor=SYSTEM, grant=grant, reason="pilot ended")
    during = ledger_entry_append(
        actor=staff_user, project=project, occurred_at=t0 + dt.timedelta(hours=1), **decision()
    )
    before = ledger_entry_append(
        actor=staff_user, project=project, occurred_at=t0 - dt.timedelta(hours=1), **decision()
    )
    after = ledger_entry_append(actor=staff_user, project=project, **decision())
    assert during.violations == []
    assert [v["rule_violated"] for v in _violations(before)] == ["codex.invitation"]
    assert [v["rule_violated"] for v in _violations(after)] == ["codex.invitation"]
    with time_machine.travel(t0, tick=False):
        scope_grant_create(
            actor=SYSTEM,
            project=project,
            model_id="gemini-pro",
            action_types=["eligibility.*"],
            expires_at=t0 + dt.timedelta(minutes=30),
        )
    gemini = decision(performer={"model_id": "gemini-pro", "model_version": "2"})
    inside = ledger_entry_append(actor=staff_user, project=project, occurred_at=t0 + dt.timedelta(minutes=10), **gemini)
    expired = ledger_entry_append(
        actor=staff_user, project=project, occurred_at=t0 + dt.timedelta(minutes=45), **gemini
    )
    assert inside.violations == []
    assert [v["rule_violated"] for v in _violations(expired)] == ["codex.invitation"]


@pytest.mark.django_db
def test_full_oversight_without_a_human_approver_is_a_consent_violation(project, staff_user, grant):
    result = ledger_entry_append(
        actor=staff_user,
        project=project,
        **decision(accountability=_acct("full", approver={"kind": "model", "id": "gemini-pro"})),
    )
    [violation] = _violations(result)
    assert (violation["rule_violated"], violation["severity"]) == ("codex.consent", "medium")
    approved = ledger_entry_append(
        actor=staff_user, project=project, **decision(accountability=_acct("full", approver=OWNER))
    )
    assert approved.violations == []


@pytest.mark.django_db
def test_selective_oversight_needs_an_approver_only_for_flagged_or_irreversible_actions(project, staff_user, grant):
    routine = ledger_entry_append(actor=staff_user, project=project, **decision(accountability=_acct("selective")))
    assert routine.violations == []
    irreversible = ledger_entry_append(
        actor=staff_user, project=project, **decision(accountability=_acct("selective", "irreversible"))
    )
    assert [(v["rule_violated"], v["severity"]) for v in _violations(irreversible)] == [("codex.consent", "high")]
    flagged = decision()
    flagged["action"]["flagged"] = True
    result = ledger_entry_append(actor=staff_user, project=project, **{**flagged, "accountability": _acct("selective")})
    assert [v["rule_violated"] for v in _violations(result)] == ["codex.consent"]


@pytest.mark.django_db
def test_minimal_oversight_logs_a_summary_of_routine_operations_only(project, staff_user, grant, ledger_count):
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        ledger_entry_append(actor=staff_user, project=project, **decision(accountability=_acct("minimal")))
    assert set(exc.value.errors) == {"action.inputs", "action.outputs", "action.factors", "action.alternatives"}
    assert ledger_count() == before
    summary = {"type": "eligibility.score", "description": "Scored 40 applications"}
    ok = ledger_entry_append(
        actor=staff_user, project=project, **decision(action=summary, accountability=_acct("minimal"))
    )
    assert ok.violations == []
    risky = ledger_entry_append(
        actor=staff_user, project=project, **decision(action=summary, accountability=_acct("minimal", "irreversible"))
    )
    assert [(v["rule_violated"], v["severity"]) for v in _violations(risky)] == [("codex.consent", "high")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("level", "missing"), [("full", "action.inputs"), ("selective", "action.outputs"), ("audit", "action.rationale")]
)
def test_each_level_requires_its_logging_detail(project, staff_user, grant, level, missing):
    data = decision(accountability=_acct(level, approver=OWNER))
    data["action"][missing.split(".")[1]] = [] if missing != "action.rationale" else ""
    with pytest.raises(ValidationFailed) as exc:
        ledger_entry_append(actor=staff_user, project=project, **data)
    assert missing in exc.value.errors
    assert OVERSIGHT_LEVELS[level].logging_detail in exc.value.errors[missing][0]


@pytest.mark.django_db
def test_references_that_do_not_resolve_are_an_integrity_violation(project, other_project, staff_user, grant):
    elsewhere = ledger_entry_append(
        actor=SYSTEM, project=other_project, **decision(action={"type": "x.y", "description": "d", "rationale": "r"})
    )
    result = ledger_entry_append(
        actor=staff_user,
        project=project,
        **decision(
            context={"task_id": "T", "parent_entry": elsewhere.entry_id, "related_entries": ["LED-" + "1" * 26]}
        ),
    )
    [violation] = _violations(result)
    assert (violation["rule_violated"], violation["severity"]) == ("codex.integrity", "low")
    assert elsewhere.entry_id in violation["evidence"]["description"]
    ok = ledger_entry_append(actor=staff_user, project=project, **decision(context={"parent_entry": result.entry_id}))
    assert ok.violations == []
