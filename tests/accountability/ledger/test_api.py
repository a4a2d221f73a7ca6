"""The ledger API: checkpoints, entries with inclusion proofs, consistency proofs, appends, audit
queries, explanations and metrics, with project scoping and bad input answered 400 with nothing written."""

from __future__ import annotations

import base64

import pytest
from django.db import connection

from accountability.ledger import keys
from accountability.ledger.offline import merkle
from accountability.ledger.offline import note as notes
from accountability.ledger.services.entries import ledger_entry_append

from .conftest import DECISION, SYSTEM, decision

URL = "/api/v1/ai-accountability/ledger/"
QUEUED = connection.vendor == "postgresql"


def _b(text: str) -> bytes:
    return base64.b64decode(text)


@pytest.fixture
def entry(project, staff_user, grant, integrate):
    result = ledger_entry_append(actor=staff_user, project=project, **decision())
    integrate()
    return result.entry_id


def _post_body(**changes):
    body = {"project": "proj-123", **{k: v for k, v in DECISION.items() if k != "performer"}}
    body["actor"] = DECISION["performer"]
    body.update(changes)
    return body


@pytest.mark.django_db
def test_the_latest_checkpoint_is_a_signed_note(api, auditor_user, entry):
    data = api.as_user(auditor_user).get(URL + "checkpoint").json()
    cp = notes.open_checkpoint(data["note"], keys.trusted_verifiers(), keys.origin())
    assert (data["origin"], data["size"], _b(data["root"])) == (cp.origin, cp.size, cp.root)
    text = api.get(URL + "checkpoint/note")
    assert text["Content-Type"].startswith("text/plain")
    assert text.content.decode() == data["note"]


@pytest.mark.django_db
def test_an_entry_comes_with_an_inclusion_proof_that_verifies_offline(api, auditor_user, entry):
    data = api.as_user(auditor_user).get(URL + f"entries/{entry}").json()
    e, proof = data["entry"], data["proof"]
    assert e["entry_id"] == entry
    assert e["status"] == "integrated"
    assert e["document"]["entry_type"] == "decision"
    cp = notes.open_checkpoint(proof["checkpoint"], keys.trusted_verifiers(), keys.origin())
    leaf = _b(proof["leaf"])
    assert merkle.leaf_hash(leaf).hex() == e["integrity"]["hash"]
    assert merkle.verify_inclusion(
        proof["index"], cp.size, merkle.leaf_hash(leaf), [_b(h) for h in proof["path"]], cp.root
    )
    index, _path, note, _ = notes.parse_proof(proof["tlog_proof"])
    assert (index, note) == (e["seq"], proof["checkpoint"])
    assert e["integrity"]["signatures"][0].startswith("\u2014 " + keys.origin())


@pytest.mark.django_db
def test_consistency_proofs_verify_and_bad_sizes_are_400(api, auditor_user, entry, project, staff_user, integrate):
    old = api.as_user(auditor_user).get(URL + "checkpoint").json()
    ledger_entry_append(actor=staff_user, project=project, **decision())
    integrate()
    data = api.get(URL + f"consistency?old={old['size']}").json()
    assert data["old_root"] == old["root"]
    assert merkle.verify_consistency(
        data["old"], data["new"], _b(old["root"]), _b(data["new_root"]), [_b(p) for p in data["proof"]]
    )
    for query, field in [("old=x", "old"), (f"old={data['new'] + 1}", "old"), ("old=1&new=999999", "new"), ("", "old")]:
        response = api.get(URL + f"consistency?{query}")
        assert response.status_code == 400, query
        assert field in response.json()["errors"]


@pytest.mark.django_db
def test_appending_through_the_api(api, staff_user, grant, integrate, ledger_count):
    before = ledger_count()
    response = api.as_user(staff_user).post(URL + "entries", _post_body(), format="json")
    assert response.status_code == (202 if QUEUED else 201)
    body = response.json()
    assert body["status"] == ("pending" if QUEUED else "integrated")
    assert body["violations"] == []
    assert ledger_count() == before + 1
    pending = api.get(URL + f"entries/{body['entry_id']}").json()
    assert pending["entry"]["status"] == body["status"]
    assert (pending["proof"] is None) == QUEUED  # nothing to prove until it is integrated
    integrate()
    assert api.get(URL + f"entries/{body['entry_id']}").json()["proof"]["index"] == pending["entry"]["seq"] or QUEUED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"entry_type": "governance"}, "entry_type"),
        ({"action": "not an object"}, "action"),
        ({"accountability": {"human_oversight": "audit", "reversibility": "maybe"}}, "accountability.reversibility"),
        ({"action": {"type": "x.y", "description": "d", "rationale": "r", "confidence": 0.93}}, "action"),
        ({"context": {"trace_id": "not-hex"}}, "context.trace_id"),
    ],
)
def test_bad_entries_are_400_and_nothing_is_written(api, staff_user, grant, ledger_count, changes, field):
    before = ledger_count()
    response = api.as_user(staff_user).post(URL + "entries", _post_body(**changes), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert ledger_count() == before


@pytest.mark.django_db
def test_writing_needs_the_append_permission(api, reviewer_user, outsider, grant, ledger_count):
    before = ledger_count()
    assert api.as_user(reviewer_user).post(URL + "entries", _post_body(), format="json").status_code == 403
    assert api.as_user(outsider).post(URL + "entries", _post_body(), format="json").status_code == 404
    assert ledger_count() == before


@pytest.mark.django_db
def test_reads_are_scoped_to_projects_with_history_view(
    api, entry, auditor_user, reviewer_user, outsider, superuser, other_project, integrate
):
    elsewhere = ledger_entry_append(actor=SYSTEM, project=other_project, **decision())
    queued = api.as_user(superuser).get(URL + "entries?status=pending").json()["results"]
    assert [r["entry_id"] for r in queued] == ([elsewhere.entry_id, *elsewhere.violations] if QUEUED else [])
    integrate()
    listed = api.as_user(auditor_user).get(URL + "entries").json()
    assert {r["project"] for r in listed["results"]} <= {"proj-123", None}
    assert entry in {r["entry_id"] for r in listed["results"]}
    assert api.get(URL + f"entries/{entry}/explanation").status_code == 200

    api.as_user(reviewer_user)
    for path in ["entries", f"entries/{entry}", "checkpoint", "metrics", "consistency?old=1"]:
        assert api.get(URL + path).status_code in (403, 404), path
    assert api.get(URL + "entries").status_code == 403

    outsiders = api.as_user(outsider).get(URL + "entries").json()["results"]
    assert all(r["project"] in ("proj-999", None) for r in outsiders)
    assert entry not in {r["entry_id"] for r in outsiders}
    for path in [f"entries/{entry}", f"entries/{entry}/explanation", f"entries/{entry}/responsibility"]:
        assert api.get(URL + path).status_code == 404
    assert api.get(URL + "audit/task-chain?task_id=TASK-1&project=proj-123").status_code == 404
    own = api.get(URL + "audit/task-chain?task_id=TASK-1").json()["results"]
    assert [r["project"] for r in own] == ["proj-999", "proj-999"]  # its decision and that one's violation

    everything = api.as_user(superuser).get(URL + "entries").json()["results"]
    assert {"proj-123", "proj-999"} <= {r["project"] for r in everything}


@pytest.mark.django_db
def test_audit_queries(api, auditor_user, entry, project, staff_user, integrate):
    stray = ledger_entry_append(
        actor=staff_user,
        project=project,
        **decision(action={"type": "data.export", "description": "d", "rationale": "r"}),
    )
    integrate()
    api.as_user(auditor_user)
    by_model = api.get(URL + "audit/by-model?model_id=claude-opus").json()
    assert {r["entry_id"] for r in by_model["results"]} == {entry, stray.entry_id}
    chain = api.get(URL + "audit/task-chain?task_id=TASK-1&project=proj-123").json()["results"]
    assert [r["entry_id"] for r in chain] == [entry, stray.entry_id, *stray.violations]  # in time order
    violations = api.get(URL + "audit/violations?start=2000-01-01&end=2100-01-01").json()["results"]
    assert [v["entry_id"] for v in violations] == stray.violations
    assert violations[0]["document"]["violation"]["rule_violated"] == "codex.invitation"
    for query, field in [
        ("start=yesterday&end=2100-01-01", "start"),
        ("start=2100-01-01&end=2000-01-01", "end"),
        ("end=2100-01-01", "start"),
    ]:
        response = api.get(URL + f"audit/violations?{query}")
        assert response.status_code == 400
        assert field in response.json()["errors"]
    assert api.get(URL + "audit/by-model").status_code == 400
    responsibility = api.get(URL + f"entries/{entry}/responsibility").json()
    assert responsibility["responsibility_chain"] == ["model:claude-opus", f"user:{keys.pii_token('staff')}"]


@pytest.mark.django_db
def test_explanations_are_plain_language(api, auditor_user, entry):
    data = api.as_user(auditor_user).get(URL + f"entries/{entry}/explanation").json()
    assert data["text"].startswith("On ")
    assert (
        "AI model claude-opus 4.1 (anthropic) made a decision: Flagged application APP-1 for manual review."
        in data["text"]
    )
    assert "under the oversight of user staff" in data["text"]
    assert data["decision_factors"] == ["mismatch 22 %"]
    assert data["alternatives_considered"] == ["approve automatically"]
    assert data["oversight"]["level"] == "audit"


@pytest.mark.django_db
def test_violations_and_corrections_through_the_api(api, staff_user, entry, ledger_count, integrate):
    api.as_user(staff_user)
    before = ledger_count()
    response = api.post(
        URL + "violations",
        {
            "project": "proj-123",
            "severity": "high",
            "violator": {"kind": "model", "id": "claude-opus"},
            "rule_violated": "OSP-00001 §2",
            "evidence_entry_ids": [entry],
            "description": "Skipped review",
        },
        format="json",
    )
    assert response.status_code in (201, 202)
    violation = response.json()["entry_id"]
    response = api.post(
        URL + "corrections",
        {
            "corrects": violation,
            "reason": "resolved",
            "amendments": {"violation.response.investigation_status": "resolved"},
        },
        format="json",
    )
    assert response.status_code in (201, 202)
    assert ledger_count() == before + 2
    bad = api.post(URL + "corrections", {"corrects": entry, "reason": "x", "amendments": {"seq": 1}}, format="json")
    assert bad.status_code == 400
    assert "amendments.seq" in bad.json()["errors"]
    missing = api.post(URL + "violations", {"project": "proj-123", "severity": "low"}, format="json")
    assert missing.status_code == 400
    assert "rule_violated" in missing.json()["errors"]
    assert ledger_count() == before + 2
    integrate()
    doc = api.get(URL + f"entries/{violation}").json()["entry"]
    assert doc["corrected_document"]["violation"]["response"]["investigation_status"] == "resolved"


@pytest.mark.django_db
def test_metrics(api, auditor_user, entry, project, staff_user, integrate):
    ledger_entry_append(
        actor=staff_user,
        project=project,
        **decision(action={"type": "data.export", "description": "d", "rationale": "r"}),
    )
    integrate()
    data = api.as_user(auditor_user).get(URL + "metrics?project=proj-123").json()
    assert data["violation_rate"] == {"per_1000_actions": 500.0, "violations": 1, "ai_actions": 2}
    assert data["entries_per_day"]["by_type"] == {"decision": 2, "governance": 1, "violation": 1}
    assert data["attribution_completeness"]["percent"] == 100.0
    assert data["chain_integrity"]["status"] == "never verified"
    assert data["audit_response_time"]["samples"] > 0
    assert api.get(URL + "metrics?days=0").status_code == 400
    assert api.get(URL + "metrics?project=proj-999").status_code == 404
