"""The ledger API: checkpoints, entries with inclusion proofs, consistency proofs, appends, audit
queries, explanations and metrics, with project scoping and bad input answered 400 with nothing written."""

from __future__ import annotations

import base64
import datetime as dt
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from accountability.ledger import keys
from accountability.ledger.api.paging import EntryPagination, PendingPagination
from accountability.ledger.append import append_entry
from accountability.ledger.models import PendingEntry
from accountability.ledger.offline import merkle
from accountability.ledger.offline import note as notes
from accountability.ledger.services.entries import ledger_entry_append
from accountability.ledger.services.grants import scope_grant_create

from .conftest import DECISION, MODEL, SYSTEM, action_entry, decision

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
    assert e["integrity"]["checkpoint_signatures"][0].startswith("\u2014 " + keys.origin())
    assert e["integrity"]["signatures"] == []  # unsigned: no model signatures


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
    assert by_model["truncated"] is False
    first = api.get(URL + "audit/by-model?model_id=claude-opus&limit=1").json()
    assert (first["count"], first["truncated"]) == (1, True)  # two matched: the answer says it is partial
    assert [r["entry_id"] for r in first["results"]] == [r["entry_id"] for r in by_model["results"]][:1]
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


# Keyset pages: GET entries reads one indexed range after the cursor and never counts the log.


def _n_entry(n: int, start: dt.datetime) -> dict:
    """Entry n of ``log``, occurred ``n`` ms after ``start``: types, models and projects vary with n, so
    each filter picks a subset."""
    return action_entry(
        n,
        entry_type="interaction" if n % 3 == 0 else "action",
        actor={**MODEL, "model_id": "claude-opus" if n % 2 == 0 else "other-model"},
        project_key="proj-999" if n % 4 == 3 else "proj-123",
        occurred_at=start + dt.timedelta(milliseconds=n),
    )


@dataclass
class Log:
    """The ``log`` fixture: entry ids by n, in log order, and when entry 0 occurred."""

    ids: list[str]
    start: dt.datetime

    def newest_first(self, matches=lambda n: True) -> list[str]:
        """Ids of the entries whose n ``matches``, newest first."""
        return [entry_id for n, entry_id in reversed(list(enumerate(self.ids))) if matches(n)]

    def at(self, n: int) -> str:
        """When entry n occurred, as a query parameter."""
        return (self.start + dt.timedelta(milliseconds=n)).isoformat()


@pytest.fixture
def log(project, other_project, integrate) -> Log:
    """Fourteen integrated AI entries, n = 0..13, each within its model's scope grant, occurred n ms
    after the grants (they are checked at that time) and in the past."""
    for where in (project, other_project):
        for model_id in ("claude-opus", "other-model"):
            scope_grant_create(actor=SYSTEM, project=where, model_id=model_id, action_types=["eligibility.*"])
    start = timezone.now()
    while timezone.now() <= start + dt.timedelta(milliseconds=14):
        time.sleep(0.001)
    results = [append_entry(**_n_entry(n, start)) for n in range(14)]
    integrate()
    assert all(r.violations == [] for r in results)
    return Log([r.entry_id for r in results], start)


def _walk(client, url: str, link: str) -> list[tuple[str, list[str], dict]]:
    """Follow ``link`` ("next" or "previous") from ``url`` to its end: (url, entry ids, body) per page."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        body = response.json()
        pages.append((url, [r["entry_id"] for r in body["results"]], body))
        url = body[link]
    return pages


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ({"actor": "model:claude-opus", "page_size": 3}, lambda n: n % 2 == 0),
        ({"entry_type": "action", "project": "proj-123", "page_size": 7}, lambda n: n % 3 and n % 4 != 3),
        (
            {"project": "proj-123", "since": 2, "until": 11, "page_size": 2},
            lambda n: 2 <= n < 11 and n % 4 != 3,
        ),
    ],
)
def test_every_page_forward_and_back_holds_each_matching_entry_once_in_seq_order(api, superuser, log, query, matches):
    expected = log.newest_first(matches)
    query = {k: log.at(v) if k in ("since", "until") else v for k, v in query.items()}
    client = api.as_user(superuser)
    forward = _walk(client, URL + "entries?" + urlencode(query), "next")
    assert [i for _, ids, _ in forward for i in ids] == expected
    assert [len(ids) for _, ids, _ in forward][:-1] == [query["page_size"]] * (len(forward) - 1)
    first, last = forward[0][2], forward[-1][2]
    assert (first["previous"], last["next"]) == (None, None)
    assert all(set(body) == {"next", "previous", "results"} for _, _, body in forward)  # no count
    seqs = [r["seq"] for _, _, body in forward for r in body["results"]]
    assert seqs == sorted(seqs, reverse=True)
    for url, _, _ in forward[1:]:  # the links carry the filters and the page size, and an opaque cursor
        assert parse_qs(urlsplit(url).query).keys() == {*query, "cursor"}
    back = _walk(client, last["previous"], "previous") if last["previous"] else []
    assert [ids for _, ids, _ in reversed(back)] == [ids for _, ids, _ in forward[:-1]]


@pytest.mark.django_db
def test_an_entry_appended_between_two_pages_neither_shifts_nor_repeats_the_next(api, superuser, log, integrate):
    client = api.as_user(superuser)
    first = client.get(URL + "entries?actor=model:claude-opus&page_size=2").json()
    mine = log.newest_first(lambda n: n % 2 == 0)
    assert [r["entry_id"] for r in first["results"]] == mine[:2]
    arrived = append_entry(**_n_entry(14, log.start))  # claude-opus again: it matches the filter
    integrate()
    second = client.get(first["next"]).json()
    assert [r["entry_id"] for r in second["results"]] == mine[2:4]
    assert [r["entry_id"] for r in client.get(second["previous"]).json()["results"]] == mine[:2]
    top = client.get(URL + "entries?page_size=3").json()["results"]
    assert [r["entry_id"] for r in top] == [arrived.entry_id, *log.newest_first()[:2]]


@pytest.mark.django_db
def test_ordering_and_other_list_parameters_do_not_reorder_the_log(api, superuser, log):
    client = api.as_user(superuser)
    plain = client.get(URL + "entries?page_size=5").json()["results"]
    for extra in ("ordering=entry_type", "ordering=-occurred_at", "ordering=project", "search=opus"):
        assert client.get(URL + f"entries?page_size=5&{extra}").json()["results"] == plain, extra


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["integrated", "pending"])
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cursor": "not a cursor!"}, "cursor"),
        ({"cursor": "%%%"}, "cursor"),
        ({"cursor": _cursor("p=abc")}, "cursor"),
        ({"cursor": _cursor("p=")}, "cursor"),
        ({"cursor": _cursor("p=-1")}, "cursor"),
        ({"cursor": _cursor("p=1.5")}, "cursor"),
        ({"cursor": _cursor(f"p={2**63}")}, "cursor"),
        ({"cursor": _cursor("p=\u00b2")}, "cursor"),
        ({"cursor": _cursor("o=5&p=3")}, "cursor"),  # an offset: never issued, as the order is unique
        ({"cursor": _cursor("r=x&p=3")}, "cursor"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "-3"}, "page_size"),
    ],
)
def test_a_malformed_cursor_or_page_size_is_400_and_writes_nothing(
    api, superuser, log, ledger_count, query, field, status
):
    before = ledger_count()
    response = api.as_user(superuser).get(URL + "entries?" + urlencode({**query, "status": status}))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert ledger_count() == before


@pytest.mark.django_db
def test_page_size_has_a_default_and_a_cap(api, superuser, log, monkeypatch):
    assert (EntryPagination.page_size, EntryPagination.max_page_size) == (50, 500)
    assert (PendingPagination.page_size, PendingPagination.max_page_size) == (50, 500)
    monkeypatch.setattr(EntryPagination, "page_size", 4)
    monkeypatch.setattr(EntryPagination, "max_page_size", 6)
    client = api.as_user(superuser)
    assert len(client.get(URL + "entries").json()["results"]) == 4
    assert len(client.get(URL + "entries?page_size=5").json()["results"]) == 5
    assert len(client.get(URL + "entries?page_size=100000").json()["results"]) == 6


@pytest.mark.django_db
def test_the_pending_queue_pages_by_arrival(api, superuser, project):
    queued = [
        PendingEntry.objects.create(
            entry_id=f"LED-P{n}",
            entry_type="action",
            project_key="proj-123",
            actor_ref="model:claude-opus",
            action_type="eligibility.score",
            occurred_at=timezone.now(),
            received_at=timezone.now(),
            retention="90d",
            payload_hash=b"h",
        ).entry_id
        for n in range(5)
    ]
    client = api.as_user(superuser)
    forward = _walk(client, URL + "entries?status=pending&page_size=2", "next")
    assert [ids for _, ids, _ in forward] == [queued[:2], queued[2:4], queued[4:]]
    back = _walk(client, forward[-1][2]["previous"], "previous")
    assert [ids for _, ids, _ in back] == [queued[2:4], queued[:2]]


@pytest.mark.django_db
def test_the_schema_documents_cursor_pages_of_entry_rows(api, superuser, log):
    schema = api.as_user(superuser).get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/ai-accountability/ledger/entries"]["get"]
    assert {"cursor", "page_size"} <= {p["name"] for p in operation["parameters"]}
    assert "page" not in {p["name"] for p in operation["parameters"]}
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    components = schema["components"]["schemas"]
    assert set(components[page]["properties"]) == {"next", "previous", "results"}
    row = components[page]["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[1]
    listed = api.get(URL + "entries").json()["results"][0]
    assert set(components[row]["properties"]) == set(listed) | {"purged"}  # purged appears once purged
