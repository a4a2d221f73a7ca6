"""ai_accountability_audit: --json prints JSON only, --human --stream prints checks as they complete,
--gate exits 0 when the gate passes and 1 when it blocks (with the evidence), errors go to stderr."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assessors.models import AuditRun
from tests.factories import CAIODesignationFactory, PlanVersionFactory, UseCaseFactory
from tests.incidents.factories import IncidentFactory

from .helpers import NOW, days_ago

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def run(*args, user="staff"):
    out, err = StringIO(), StringIO()
    call_command("ai_accountability_audit", *args, "--user", user, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def passing(project, staff_user, clock):
    CAIODesignationFactory(project=project, grade="ses", effective_date=days_ago(300), omb_notified_at=days_ago(290))
    clock.move_to(NOW - dt.timedelta(days=200))
    use_case = UseCaseFactory(project=project, responsible_official_name="Dana Lee")
    clock.move_to(NOW)
    PlanVersionFactory(plan__project=project, plan__use_case=use_case, status="active")
    return project


def test_json_prints_one_json_document_and_stores_the_run(passing, ledger_count):
    before = ledger_count()
    out, err = run("--project-id", "proj-123", "--json")
    data = json.loads(out)
    run_row = AuditRun.objects.get()
    assert (data["run"], data["ledger_entry"], data["project"]) == (
        run_row.public_id,
        run_row.ledger_entry_id,
        "proj-123",
    )
    assert (data["score"], data["summary"]["pass"], data["gate"]["status"]) == (100.0, 6, "passed")
    assert len(data["checks"]) == 29
    gov = next(c for c in data["checks"] if c["check"] == "M2521-GOV-01")
    assert (gov["aliases"], gov["status"], gov["framework_version"]) == (["M25-002"], "pass", "2026.1")
    assert gov["evidence"]["parameters"]["rule.rules[1].max_age"]["provenance"] == "F"
    assert (err, ledger_count()) == ("", before + 1)


def test_no_store_evaluates_without_writing(passing, auditor_user, ledger_count):
    before = ledger_count()
    data = json.loads(run("--project-id", "proj-123", "--json", "--no-store", user="auditor")[0])
    assert (data["run"], data["gate"]["status"]) == (None, "passed")
    assert (AuditRun.objects.count(), ledger_count()) == (0, before)


def test_human_stream_prints_each_check_as_it_completes(passing, auditor_user):
    out, _ = run("--project-id", "proj-123", "--human", "--stream", "--no-store", user="auditor")
    lines = out.splitlines()
    streamed = [line for line in lines if line[:2] in ("✔ ", "◐ ", "✘ ", "– ")]
    assert len(streamed) == 29
    assert streamed[0] == "✔ M2521-GOV-01 (M25-002) [critical] PASS: 1 of 1 federal projects meet the check."
    assert "Unified score: 100.0 · 6 pass, 0 partial, 0 fail, 23 not applicable" in out
    assert "Security gate: PASSED" in out


def test_human_output_has_checks_coverage_gaps_and_gate(passing):
    passing.caio_designations.update(grade="other")
    out, _ = run("--project-id", "proj-123")
    assert "Coverage per framework" in out
    assert (
        " 1. [medium] M2521-GOV-02 FAIL: 0 of 1 federal projects with an active CAIO meet the check, 1 do not." in out
    )
    assert "Security gate: PASSED" in out


def test_gate_exits_0_when_the_gate_passes(passing):
    out, err = run("--project-id", "proj-123", "--gate")
    assert "Security gate: PASSED" in out
    assert err == ""


def test_gate_exits_1_when_blocked_and_prints_each_blocking_condition(passing):
    incident = IncidentFactory(project=passing, severity="critical", reported_at=NOW - dt.timedelta(hours=80))
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("ai_accountability_audit", "--project-id", "proj-123", "--gate", "--user", "staff", stdout=out)
    assert exc.value.returncode == 1
    assert str(exc.value) == "security gate blocked: proj-123: GATE-CRITICAL-INCIDENT"
    text = out.getvalue()
    assert "Security gate: BLOCKED" in text
    assert "BLOCKING GATE-CRITICAL-INCIDENT: Critical incident unresolved for more than 72 hours" in text
    assert f"{incident.public_id}: reported_at=2026-06-12T06:00:00+00:00, sla_due_at=" in text
    assert f"/admin/accountability/incident/{incident.pk}/change/" in text


def test_gate_with_json_prints_json_and_still_exits_1(passing):
    IncidentFactory(project=passing, severity="critical", reported_at=NOW - dt.timedelta(hours=80))
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(
            "ai_accountability_audit", "--project-id", "proj-123", "--gate", "--json", "--user", "staff", stdout=out
        )
    assert exc.value.returncode == 1
    assert [c["id"] for c in json.loads(out.getvalue())["gate"]["blocking"]] == ["GATE-CRITICAL-INCIDENT"]


def test_selected_checks_by_alias(passing):
    data = json.loads(run("--project-id", "proj-123", "--json", "--check", "M25-002", "--check", "GAO-001")[0])
    assert [c["check"] for c in data["checks"]] == ["M2521-GOV-01", "GAO-GOV-01"]
    assert (data["complete"], data["gate"]) == (False, None)


def test_all_without_storing_evaluates_the_users_projects_at_once(passing, other_project, auditor_user):
    data = json.loads(run("--all", "--json", "--no-store", user="auditor")[0])
    assert data == {
        "projects": [
            {
                "project": "proj-123",
                "run": None,
                "score": 100.0,
                "counts": [6, 0, 0, 23],
                "gate": "passed",
                "blocking": [],
            }
        ]
    }
    assert AuditRun.objects.count() == 0


def test_all_audits_every_project_of_the_user(passing, other_project, superuser):
    data = json.loads(run("--all", "--json", user="root")[0])
    assert [(p["project"], p["gate"]) for p in data["projects"]] == [("proj-123", "passed"), ("proj-999", "blocked")]
    assert AuditRun.objects.count() == 2
    with pytest.raises(CommandError) as exc:
        run("--all", "--gate", user="root")
    assert (exc.value.returncode, str(exc.value)) == (1, "security gate blocked: proj-999: GATE-CAIO")


@pytest.mark.parametrize(
    ("args", "user", "code", "message"),
    [
        (["--project-id", "proj-999", "--json"], "staff", 3, "not_found: No project 'proj-999'."),
        (["--project-id", "proj-123", "--json"], "auditor", 3, "not_allowed: Your role in proj-123 does not allow"),
        (
            ["--project-id", "proj-123", "--check", "NOPE-1"],
            "staff",
            2,
            "invalid input:\n  checks: Unknown check 'NOPE-1'.",
        ),
        (["--project-id", "proj-123", "--json", "--stream"], "staff", 1, "--json prints JSON only"),
        (["--project-id", "proj-123", "--gate", "--check", "M25-002"], "staff", 1, "--gate needs the complete audit"),
    ],
)
def test_errors_exit_non_zero_and_write_nothing(passing, auditor_user, other_project, args, user, code, message):
    with pytest.raises(CommandError) as exc:
        run(*args, user=user)
    assert exc.value.returncode == code
    assert str(exc.value).startswith(message)
    assert AuditRun.objects.count() == 0
