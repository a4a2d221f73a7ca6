"""Violations carry the seed's record; corrections are new entries linked (by seq and hash) to the
entry they amend, which is never changed in place."""

from __future__ import annotations

import base64
import json

import pytest

from accountability.exceptions import NotAllowed, NotFound, ValidationFailed
from accountability.ledger.models import LedgerEntry
from accountability.ledger.selectors import corrections_of, effective_document, entry_get
from accountability.ledger.services.entries import (
    correction_record,
    ledger_entry_append,
    violation_record,
    violation_update,
)

from .conftest import SYSTEM, decision


@pytest.fixture
def recorded(project, staff_user, grant, integrate):
    result = ledger_entry_append(actor=staff_user, project=project, **decision())
    integrate()
    return LedgerEntry.objects.get(entry_id=result.entry_id)


@pytest.mark.django_db
def test_a_violation_record_has_the_seed_fields(project, staff_user, recorded, integrate):
    result = violation_record(
        actor=staff_user,
        project=project,
        severity="high",
        violator={"kind": "model", "id": "claude-opus"},
        rule_violated="OSP-00001 §2: no automated denials",
        evidence_entry_ids=[recorded.entry_id],
        description="Denied an application without review",
        immediate_action="Decision reversed; model paused",
        corrective_action="Retrain the threshold",
    )
    integrate()
    doc = entry_get(SYSTEM, result.entry_id).document
    v = doc["violation"]
    assert v["violation_id"].startswith("VIO-")
    assert (v["severity"], v["violator"], v["rule_violated"]) == (
        "high",
        {"kind": "model", "id": "claude-opus"},
        "OSP-00001 §2: no automated denials",
    )
    assert v["evidence"] == {"entry_ids": [recorded.entry_id], "description": "Denied an application without review"}
    assert v["response"] == {
        "immediate_action": "Decision reversed; model paused",
        "investigation_status": "open",
        "corrective_action": "Retrain the threshold",
    }
    assert doc["accountability"]["responsibility"]["oversight"]["kind"] == "user"  # the recorder owns it


@pytest.mark.django_db
def test_violation_evidence_must_exist_in_the_project(project, staff_user, grant, ledger_count):
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        violation_record(
            actor=staff_user,
            project=project,
            severity="low",
            violator="model:x",
            rule_violated="r",
            evidence_entry_ids=["LED-" + "2" * 26],
            description="d",
        )
    assert "violation.evidence.entry_ids" in exc.value.errors
    assert ledger_count() == before


@pytest.mark.django_db
def test_a_correction_links_to_the_original_which_stays_unchanged(project, staff_user, recorded, integrate):
    leaf, payload = bytes(recorded.leaf_bytes), bytes(recorded.payload)
    result = correction_record(
        actor=staff_user,
        corrects=recorded.entry_id,
        reason="Wrong threshold quoted",
        amendments={"action.rationale": "Mismatch above 20 %", "accountability.reversibility": "partial"},
    )
    integrate()
    again = LedgerEntry.objects.get(seq=recorded.seq)
    assert (bytes(again.leaf_bytes), bytes(again.payload)) == (leaf, payload)
    corr = LedgerEntry.objects.get(entry_id=result.entry_id)
    link = json.loads(bytes(corr.leaf_bytes))["links"]
    assert link == [
        {"rel": "corrects", "seq": recorded.seq, "hash": base64.b64encode(bytes(recorded.entry_hash)).decode()}
    ]
    assert corr.corrects_seq == recorded.seq
    assert corr.corrects_entry_id == recorded.entry_id
    doc, corrections = effective_document(again)
    assert doc["action"]["rationale"] == "Mismatch above 20 %"
    assert doc["accountability"]["reversibility"] == "partial"
    assert again.document["action"]["rationale"] == "Income mismatch above threshold."
    assert (
        [c["entry_id"] for c in corrections]
        == [result.entry_id]
        == [c["entry_id"] for c in corrections_of(recorded.entry_id)]
    )


@pytest.mark.django_db
def test_a_violation_moves_on_through_corrections(project, staff_user, grant, integrate):
    stray = ledger_entry_append(
        actor=staff_user,
        project=project,
        **decision(action={"type": "data.export", "description": "d", "rationale": "r"}),
    )
    [violation_id] = stray.violations
    violation_update(
        actor=staff_user, violation_entry_id=violation_id, investigation_status="investigating", note="Looking into it"
    )
    violation_update(
        actor=staff_user,
        violation_entry_id=violation_id,
        investigation_status="resolved",
        corrective_action="Scope clarified to the team",
        note="Done",
    )
    integrate()
    doc, corrections = effective_document(entry_get(SYSTEM, violation_id))
    assert doc["violation"]["response"]["investigation_status"] == "resolved"
    assert doc["violation"]["response"]["corrective_action"] == "Scope clarified to the team"
    assert len(corrections) == 2
    assert entry_get(SYSTEM, violation_id).document["violation"]["response"]["investigation_status"] == "open"


@pytest.mark.django_db
def test_a_retraction_marks_the_entry_as_recorded_in_error(staff_user, recorded, integrate):
    result = correction_record(actor=staff_user, corrects=recorded.entry_id, reason="Logged twice", retract=True)
    integrate()
    doc, _ = effective_document(recorded)
    assert doc["retracted"] == {"by": result.entry_id, "reason": "Logged twice"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"amendments": {"entry_id": "LED-X"}}, "amendments.entry_id"),
        ({"amendments": {"accountability.human_oversight": "sometimes"}}, "amendments.accountability.human_oversight"),
        ({"amendments": {}}, "amendments"),
        ({"reason": " "}, "reason"),
        ({"corrects": "not-an-id"}, "corrects"),
    ],
)
def test_bad_corrections_are_rejected_and_nothing_written(staff_user, recorded, ledger_count, kwargs, error):
    before = ledger_count()
    args = {"corrects": recorded.entry_id, "reason": "r", "amendments": {"action.rationale": "x"}, **kwargs}
    with pytest.raises(ValidationFailed) as exc:
        correction_record(actor=staff_user, **args)
    assert error in exc.value.errors
    assert ledger_count() == before


@pytest.mark.django_db
def test_corrections_need_the_append_permission_in_the_entrys_project(
    recorded, reviewer_user, outsider, responder_user, ledger_count
):
    before = ledger_count()
    with pytest.raises(NotAllowed):
        correction_record(actor=reviewer_user, corrects=recorded.entry_id, reason="r", retract=True)
    with pytest.raises(NotFound):
        correction_record(actor=outsider, corrects=recorded.entry_id, reason="r", retract=True)
    assert ledger_count() == before
    correction_record(actor=responder_user, corrects=recorded.entry_id, reason="r", retract=True)
    assert ledger_count() == before + 1


@pytest.mark.django_db
def test_a_correction_of_a_correction_is_refused(staff_user, recorded, integrate):
    first = correction_record(actor=staff_user, corrects=recorded.entry_id, reason="r", retract=True)
    integrate()
    with pytest.raises(ValidationFailed, match="original"):
        correction_record(actor=staff_user, corrects=first.entry_id, reason="r", retract=True)
