"""Appending: the seed schema, record types and retention, responsibility attribution, personal data as
HMAC tokens, the chain inside the leaves, and one entry per governance act in the same transaction."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import re

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from accountability.exceptions import ValidationFailed
from accountability.ledger import keys
from accountability.ledger.append import append_entry, record_governance
from accountability.ledger.models import LedgerEntry, LedgerHead, PendingEntry
from accountability.ledger.offline.formats import GENESIS_PREV, leaf_hash_of, payload_hash
from accountability.ledger.selectors import decision_entry_for_trace, entry_documents
from accountability.ledger.services.entries import ledger_entry_append
from accountability.services import projects as project_svc

from .conftest import SYSTEM, action_entry, decision


def _doc(entry_id: str) -> dict:
    row = LedgerEntry.objects.filter(entry_id=entry_id).first() or PendingEntry.objects.get(entry_id=entry_id)
    return json.loads(bytes(row.payload))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("entry_type", "retention", "days"),
    [("action", "P90D", 90), ("interaction", "P90D", 90), ("decision", "P1Y", 365)],
)
def test_record_types_carry_their_retention(project, grant, integrate, entry_type, retention, days):
    extra = {"accountability": {**decision()["accountability"]}} if entry_type == "decision" else {}
    result = append_entry(**action_entry(entry_type=entry_type, **extra))
    integrate()
    row = LedgerEntry.objects.get(entry_id=result.entry_id)
    assert row.retention == retention
    assert row.expires_at - row.occurred_at == dt.timedelta(days=days)
    assert json.loads(bytes(row.leaf_bytes))["retention"] == retention


@pytest.mark.django_db
def test_governance_violation_and_correction_entries_are_permanent(project, staff_user, integrate):
    project_svc.project_update(actor=staff_user, project=project, name="Renamed")
    integrate()
    row = LedgerEntry.objects.get(entry_type="governance", project_key="proj-123")
    assert (row.retention, row.expires_at) == ("PERMANENT", None)


@pytest.mark.django_db
def test_an_entry_has_the_seed_schema_and_a_ulid_id(project, staff_user, grant, integrate):
    result = ledger_entry_append(actor=staff_user, project=project, **decision())
    assert re.fullmatch(r"LED-[0-9A-HJKMNP-TV-Z]{26}", result.entry_id)
    integrate()
    doc = _doc(result.entry_id)
    assert set(doc) >= {"entry_id", "timestamp", "entry_type", "actor", "action", "context", "accountability"}
    assert doc["actor"] == {
        "kind": "model",
        "id": "claude-opus",
        "provider": "anthropic",
        "model_version": "4.1",
        "session_id": "s-1",
    }
    assert set(doc["action"]) >= {"type", "description", "inputs", "outputs", "rationale"}
    assert set(doc["context"]) >= {"task_id", "parent_entry", "related_models"}
    assert doc["accountability"]["human_oversight"] == "audit"
    assert doc["accountability"]["reversibility"] == "reversible"
    assert doc["accountability"]["responsibility_chain"][0] == "model:claude-opus"


@pytest.mark.django_db
def test_leaves_chain_and_commit_to_salted_payloads(project, grant, integrate):
    for n in range(5):
        append_entry(**action_entry(n))
    integrate()
    rows = list(LedgerEntry.objects.order_by("seq"))
    assert [r.seq for r in rows] == list(range(7))  # genesis, the grant's governance entry, 5 actions
    assert bytes(rows[0].previous_hash) == GENESIS_PREV
    for prev, row in itertools.pairwise(rows):
        leaf = json.loads(bytes(row.leaf_bytes))
        assert bytes(row.entry_hash) == leaf_hash_of(bytes(row.leaf_bytes))
        assert base64.b64decode(leaf["prev"]) == bytes(prev.entry_hash) == bytes(row.previous_hash)
        assert leaf["seq"] == row.seq
        assert leaf["id"] == row.entry_id
        assert leaf["log"] == keys.origin()
        assert base64.b64decode(leaf["payload_hash"]) == payload_hash(bytes(row.payload_salt), bytes(row.payload))
        assert len(bytes(row.payload_salt)) == 16
    head = LedgerHead.objects.get()
    assert head.size == 7
    assert bytes(head.last_hash) == bytes(rows[-1].entry_hash)


@pytest.mark.django_db
def test_the_database_refuses_a_fork(project, grant, integrate):
    append_entry(**action_entry(1))
    integrate()
    row = LedgerEntry.objects.get(seq=1)
    clone = LedgerEntry(**{f.attname: getattr(row, f.attname) for f in LedgerEntry._meta.concrete_fields})
    clone.seq, clone.entry_id, clone.entry_hash = 2, "LED-" + "0" * 26, b"\x01" * 32
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save(force_insert=True)  # same previous_hash as seq 1: a second branch


@pytest.mark.django_db
@pytest.mark.parametrize("entry_type", ["decision", "violation", "correction"])
def test_decisions_violations_and_corrections_need_an_accountable_owner(project, grant, ledger_count, entry_type):
    extra = {}
    if entry_type == "violation":
        extra["violation"] = {
            "severity": "low",
            "violator": "model:x",
            "rule_violated": "r",
            "evidence": {"entry_ids": [], "description": "d"},
        }
    if entry_type == "correction":
        extra["correction"] = {"corrects": "LED-" + "0" * 26, "reason": "r", "amendments": {}}
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        append_entry(
            **action_entry(
                entry_type=entry_type,
                accountability={
                    "human_oversight": "audit",
                    "reversibility": "reversible",
                    # a model approving is not an accountable owner: a person or an organisation is
                    "responsibility": {"approver": {"kind": "model", "id": "gemini-pro"}},
                },
                **extra,
            )
        )
    assert "accountable owner" in exc.value.errors["accountability.responsibility"][0]
    assert ledger_count() == before


@pytest.mark.django_db
def test_an_organisation_can_be_the_accountable_owner(project, grant):
    result = append_entry(
        **action_entry(
            entry_type="decision",
            accountability={
                "human_oversight": "minimal",
                "reversibility": "reversible",
                "responsibility": {"approver": {"kind": "org", "id": "GSA", "name": "General Services Administration"}},
            },
        )
    )
    assert result.entry_id


@pytest.mark.django_db
def test_action_entries_with_gaps_are_recorded_and_flagged(project, grant, integrate):
    result = append_entry(
        **action_entry(
            actor={"model_id": "claude-opus"},
            accountability={"human_oversight": "audit", "reversibility": "reversible"},
        )
    )
    integrate()
    assert LedgerEntry.objects.get(entry_id=result.entry_id).gaps == [
        "no_accountable_owner",
        "no_model_version",
        "no_oversight_party",
    ]


@pytest.mark.django_db
def test_personal_data_is_stored_as_keyed_tokens(project, staff_user, grant, integrate):
    result = ledger_entry_append(
        actor=staff_user,
        project=project,
        **decision(
            action={
                **decision()["action"],
                "description": "Mailed the outcome to jane.doe@example.org",
                "outputs": [{"recipient_email": "jane.doe@example.org", "count": 1}],
            },
        ),
    )
    integrate()
    payload = bytes(LedgerEntry.objects.get(entry_id=result.entry_id).payload).decode()
    assert "jane.doe" not in payload
    assert "staff" not in payload.replace("staff_", "")
    token = keys.pii_token("Jane.Doe@example.org")
    assert token.startswith("hmac:dev:")
    assert token in payload
    assert keys.pii_token("staff") in payload  # the oversight person
    doc = json.loads(payload)
    assert doc["action"]["outputs"][0] == {"recipient_email": token, "count": 1}


@pytest.mark.django_db
def test_pii_keys_rotate(project, grant, integrate):
    old_key = base64.b64encode(b"o" * 32).decode()
    new_key = base64.b64encode(b"n" * 32).decode()
    with override_settings(ICDEV_LEDGER_PII_KEYS=[f"k1:{old_key}"]):
        first = append_entry(
            **action_entry(1, action={"type": "eligibility.score", "description": "a@b.gov", "rationale": "r"})
        )
        old_token = keys.pii_token("a@b.gov")
    with override_settings(ICDEV_LEDGER_PII_KEYS=[f"k2:{new_key}", f"k1:{old_key}"]):
        second = append_entry(
            **action_entry(2, action={"type": "eligibility.score", "description": "a@b.gov", "rationale": "r"})
        )
        tokens = keys.pii_tokens("a@b.gov")
        assert tokens[0].startswith("hmac:k2:")
        assert tokens[1] == old_token
        integrate()
        assert tokens[1] in _doc(first.entry_id)["action"]["description"]
        assert tokens[0] in _doc(second.entry_id)["action"]["description"]


@pytest.mark.django_db
def test_each_governance_service_writes_one_entry_in_its_transaction(project, staff_user, ledger_count, integrate):
    before = ledger_count()
    project_svc.project_update(actor=staff_user, project=project, name="Renamed")
    assert ledger_count() == before + 1

    def change_then_fail():
        with transaction.atomic():
            project_svc.project_update(actor=staff_user, project=project, name="Again")
            raise RuntimeError("the caller's transaction fails after the service")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert ledger_count() == before + 1  # the entry rolled back with the change
    integrate()
    doc = _doc(LedgerEntry.objects.filter(project_key="proj-123").latest("seq").entry_id)
    assert doc["action"]["type"] == "project.update"
    assert doc["actor"] == {"kind": "user", "id": keys.pii_token("staff")}
    subject = doc["action"]["outputs"][0]
    assert subject["model"] == "accountability.Project"
    assert len(subject["history_sha256"]) == 64


@pytest.mark.django_db
def test_record_governance_returns_the_final_entry_id(project, integrate):
    result = record_governance(actor=SYSTEM, project=project, action_type="test.act", description="An act")
    integrate()
    assert LedgerEntry.objects.get(entry_id=result.entry_id).entry_type == "governance"
    assert result.is_integrated == (connection.vendor != "postgresql")


@pytest.mark.django_db
def test_decision_lookup_by_trace_id_sees_pending_and_integrated_entries(project, staff_user, grant, integrate):
    result = ledger_entry_append(actor=staff_user, project=project, **decision())
    found = decision_entry_for_trace("4bf92f3577b34da6a3ce929d0e0e4736", "proj-123")
    assert found.entry_id == result.entry_id
    assert found.is_integrated == (connection.vendor != "postgresql")
    integrate()
    found = decision_entry_for_trace("4bf92f3577b34da6a3ce929d0e0e4736")
    assert found.is_integrated
    assert found.seq is not None
    assert found.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert decision_entry_for_trace("4bf92f3577b34da6a3ce929d0e0e4736", "proj-999") is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"context": {"trace_id": "XYZ"}}, "context.trace_id"),
        ({"action": {"type": "Bad Type", "description": "d", "rationale": "r"}}, "action.type"),
        ({"action": {"type": "eligibility.x", "rationale": "r"}}, "action.description"),
        ({"performer": {"kind": "user", "id": "alice"}}, "actor.kind"),
        (
            {"accountability": {"human_oversight": "sometimes", "reversibility": "reversible"}},
            "accountability.human_oversight",
        ),
        ({"occurred_at": timezone.now() + dt.timedelta(hours=1)}, "occurred_at"),
        ({"occurred_at": timezone.now() - dt.timedelta(days=400)}, "occurred_at"),
        ({"action": {"type": "eligibility.x", "description": "d", "rationale": "r", "score": 0.9}}, "action"),
    ],
)
def test_bad_input_is_rejected_with_field_messages_and_nothing_written(
    project, staff_user, grant, ledger_count, changes, field
):
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        ledger_entry_append(actor=staff_user, project=project, **decision(**changes))
    assert field in exc.value.errors
    assert ledger_count() == before


@pytest.mark.django_db
def test_related_entry_ids_become_references_and_documents_are_readable_by_id(project, staff_user, integrate):
    first = record_governance(actor=SYSTEM, project=project, action_type="test.first", description="First")
    second = record_governance(
        actor=SYSTEM, project=project, action_type="test.second", description="Second",
        related=[first.entry_id, "OSP-00001"], changes={"record_hash": "abc"},
    )  # fmt: skip
    docs = entry_documents([first.entry_id, second.entry_id, "LED-" + "9" * 26])  # pending or integrated
    assert set(docs) == {first.entry_id, second.entry_id}
    assert docs[second.entry_id]["context"]["related_entries"] == [first.entry_id]
    assert docs[second.entry_id]["context"]["related_models"] == ["OSP-00001"]
    assert docs[second.entry_id]["action"]["inputs"][0]["changes"]["record_hash"] == "abc"
    integrate()
    assert entry_documents([second.entry_id]) == {second.entry_id: docs[second.entry_id]}
