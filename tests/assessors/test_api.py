"""Audit API: POST /audit runs and stores (400 bad input writes nothing, 403 role, 404 other project),
run history and results (paginated, filtered, scoped), the live gate, and the catalogue."""

from __future__ import annotations

import datetime as dt

import pytest

from assessors.models import AuditRun
from assessors.services import audit_run
from tests.factories import CAIODesignationFactory
from tests.incidents.factories import IncidentFactory

from .helpers import NOW, SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
BASE = "/api/v1/ai-accountability"


def test_post_audit_runs_and_stores_with_its_ledger_entry(api, staff_user, project, ledger_count):
    CAIODesignationFactory(project=project, grade="ses")
    before = ledger_count()
    response = api.as_user(staff_user).post(f"{BASE}/audit", {"project": "proj-123"}, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    run = AuditRun.objects.get()
    assert (data["id"], data["project"], data["trigger"], data["ledger_entry_id"]) == (
        run.public_id,
        "proj-123",
        "api",
        run.ledger_entry_id,
    )
    assert len(data["results"]) == 29
    assert data["gate"]["status"] == data["gate_status"] == run.gate_status
    assert {fw["framework"] for fw in data["coverage"]} == {"M2521", "M2604", "AI6001", "GAO"}
    assert ledger_count() == before + 1


def test_post_audit_with_selected_frameworks_and_aliases(api, caio_user, project):
    response = api.as_user(caio_user).post(
        f"{BASE}/audit", {"project": "proj-123", "checks": ["M25-002", "AI600-004"]}, format="json"
    )
    assert response.status_code == 201
    assert [r["check_id"] for r in response.json()["results"]] == ["M2521-GOV-01", "AI6001-PRV-02"]
    assert response.json()["gate_status"] == "not_evaluated"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"project": ["This field is required."]}),
        ({"project": "proj-123", "checks": ["M99-999"]}, {"checks": ["Unknown check 'M99-999'."]}),
        ({"project": "proj-123", "frameworks": ["EUAIA"]}, {"frameworks": ["Unknown framework 'EUAIA'."]}),
        ({"project": "proj-123", "checks": "M25-002"}, {"checks": ['Expected a list of items but got type "str".']}),
    ],
)
def test_post_audit_bad_input_is_400_and_writes_nothing(api, staff_user, project, ledger_count, body, errors):
    before = ledger_count()
    response = api.as_user(staff_user).post(f"{BASE}/audit", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert (AuditRun.objects.count(), ledger_count()) == (0, before)


def test_post_audit_needs_the_run_role(api, auditor_user, project, ledger_count):
    before = ledger_count()
    response = api.as_user(auditor_user).post(f"{BASE}/audit", {"project": "proj-123"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    assert (AuditRun.objects.count(), ledger_count()) == (0, before)


def test_post_audit_of_another_project_is_404(api, outsider, project):
    response = api.as_user(outsider).post(f"{BASE}/audit", {"project": "proj-123"}, format="json")
    assert response.status_code == 404
    assert AuditRun.objects.count() == 0


def test_run_history_is_paginated_filtered_and_scoped(api, auditor_user, outsider, project, other_project):
    first = audit_run(actor=SYSTEM, project=project, trigger="cli")
    second = audit_run(actor=SYSTEM, project=project, trigger="api", check_ids=["M25-002"])
    audit_run(actor=SYSTEM, project=other_project, trigger="cli")
    client = api.as_user(auditor_user)
    page = client.get(f"{BASE}/audit-runs/", {"page_size": 1}).json()
    assert (page["count"], [r["id"] for r in page["results"]]) == (2, [second.public_id])
    assert page["next"] is not None
    assert [r["id"] for r in client.get(f"{BASE}/audit-runs/", {"trigger": "cli"}).json()["results"]] == [
        first.public_id
    ]
    detail = client.get(f"{BASE}/audit-runs/{first.public_id}/").json()
    assert (detail["id"], len(detail["results"]), detail["gate"]["status"]) == (first.public_id, 29, "blocked")
    outsider_client = api.as_user(outsider)
    assert outsider_client.get(f"{BASE}/audit-runs/{first.public_id}/").status_code == 404
    assert [r["project"] for r in outsider_client.get(f"{BASE}/audit-runs/").json()["results"]] == ["proj-999"]


def test_results_filter_by_check_alias_status_framework_and_run(api, auditor_user, project):
    run = audit_run(actor=SYSTEM, project=project, trigger="cli")
    client = api.as_user(auditor_user)
    by_alias = client.get(f"{BASE}/check-results/", {"check": "m25-002"}).json()["results"]
    assert [(r["check_id"], r["status"], r["run"]) for r in by_alias] == [("M2521-GOV-01", "fail", run.public_id)]
    assert by_alias[0]["evidence"]["failing"][0]["admin_url"] == f"/admin/accountability/project/{project.pk}/change/"
    failing = client.get(f"{BASE}/check-results/", {"status": "fail", "page_size": 100}).json()
    assert failing["count"] == run.checks_failed
    gao = client.get(f"{BASE}/check-results/", {"framework": "GAO", "page_size": 100}).json()
    assert gao["count"] == 13
    assert client.get(f"{BASE}/check-results/", {"run": "AUD-99999"}).json()["count"] == 0


def test_the_gate_is_evaluated_live_and_stores_nothing(api, auditor_user, project, ledger_count):
    IncidentFactory(project=project, severity="critical", reported_at=NOW - dt.timedelta(hours=100))
    before = ledger_count()
    response = api.as_user(auditor_user).get(f"{BASE}/gate", {"project": "proj-123"})
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "blocked"
    assert [c["id"] for c in data["blocking"]] == ["GATE-CAIO", "GATE-CRITICAL-INCIDENT"]
    assert data["thresholds_source"] == "portal policy (ai_accountability_config.yaml, gate)"
    assert (AuditRun.objects.count(), ledger_count()) == (0, before)


@pytest.mark.parametrize(
    ("who", "query", "code"),
    [
        ("appellant_user", {"project": "proj-123"}, 403),
        ("outsider", {"project": "proj-123"}, 404),
        ("auditor_user", {}, 400),
    ],
)
def test_gate_errors(api, request, project, who, query, code):
    response = api.as_user(request.getfixturevalue(who)).get(f"{BASE}/gate", query)
    assert response.status_code == code


def test_framework_catalogue_endpoints(api, appellant_user):
    client = api.as_user(appellant_user)
    frameworks = client.get(f"{BASE}/frameworks/").json()
    assert [f["code"] for f in frameworks] == ["M2521", "M2604", "AI6001", "GAO"]
    m2604 = client.get(f"{BASE}/frameworks/omb-m-26-04/").json()
    assert (m2604["effective_until"], m2604["checks"]) == (
        "2027-12-11",
        ["M2604-VND-01", "M2604-VND-04", "M2604-POL-01"],
    )
    solicitation = next(r for r in m2604["requirements"] if r["id"] == "solicitation-minimums")
    assert solicitation["checks"] == ["M2604-VND-01"]
    check = client.get(f"{BASE}/checks/M26-002/").json()
    assert (check["id"], check["citation"]) == (
        "M2521-IA-02",
        "OMB M-25-21 App. §4(b)(ii)(D); §5 'significant modification' (primary)",
    )
    assert client.get(f"{BASE}/checks/NOPE-001/").status_code == 404
    assert len(client.get(f"{BASE}/checks/", {"framework": "M2604"}).json()) == 3


def test_the_api_root_lists_the_audit_collections(api, staff_user):
    collections = api.as_user(staff_user).get(f"{BASE}/").json()["collections"]
    assert collections["audit-runs"].endswith("/api/v1/ai-accountability/audit-runs/")
    assert collections["checks"].endswith("/api/v1/ai-accountability/checks/")
