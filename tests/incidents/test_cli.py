"""The commands of seed 003 §9: --json output, and errors with a non-zero exit, stderr and no writes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.management import load_command_class
from django.db import connections

from accountability.models import Incident, ReassessmentSchedule

from .factories import IncidentFactory, ScheduleFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def run(capsys, monkeypatch):
    """Run a command as from the shell: returns (exit code, stdout, stderr)."""
    # run_from_argv closes every connection when it ends; here that would close the test's transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(name, *args):
        command = load_command_class("accountability", name)
        code = 0
        try:
            command.run_from_argv(["manage.py", name, *args])
        except SystemExit as exc:
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_incident_cli_round_trip(run, responder_user, project):
    with time_machine.travel(T0, tick=False):
        code, out, err = run(
            "ai_incident_response",
            "--user=responder",
            "--project-id=proj-123",
            "--log",
            "--severity=critical",
            "--title=Model hallucination in compliance report",
            "--json",
        )
    assert (code, err) == (0, "")
    logged = json.loads(out)
    inc = Incident.objects.get().public_id
    assert (logged["id"], logged["severity"], logged["status"]) == (inc, "critical", "open")
    assert logged["sla"]["due_at"] == "2026-03-05T09:00:00-05:00"
    code, out, _ = run("ai_incident_response", "--user=responder", "--project-id=proj-123", "--list", "--json")
    assert [i["id"] for i in json.loads(out)] == [inc]
    code, out, _ = run("ai_incident_response", "--user=responder", f"--incident-id={inc}", "--investigate", "--json")
    assert json.loads(out)["status"] == "investigating"
    code, out, _ = run(
        "ai_incident_response",
        "--user=responder",
        f"--incident-id={inc}",
        "--resolve",
        "--root-cause=Training data gap",
        "--lessons-learned=Add validation step",
        "--json",
    )
    resolved = json.loads(out)
    assert (resolved["status"], resolved["root_cause"], resolved["lessons_learned"]) == (
        "resolved",
        "Training data gap",
        "Add validation step",
    )


def test_incident_cli_human_list(run, responder_user, project):
    incident = IncidentFactory(project=project, title="Drift on Mondays", breached=True)
    code, out, _ = run("ai_incident_response", "--user=responder", "--project-id=proj-123", "--list")
    assert code == 0
    assert incident.public_id in out
    assert "breached" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--project-id=proj-123", "--log", "--severity=critical"], 2, "title"),
        (["--project-id=proj-123", "--log", "--title=T", "--severity=apocalyptic"], 2, "severity"),
        (["--project-id=proj-123", "--log", "--title=T", "--detected-at=yesterday"], 2, "detected_at"),
        (["--project-id=proj-999", "--log", "--title=T"], 3, "No project"),
        (["--project-id=proj-123", "--log", "--list", "--title=T"], 1, "exactly one action"),
        (["--incident-id={inc}", "--resolve"], 2, "root_cause"),
        (["--incident-id={inc}", "--close", "--lessons-learned=x"], 4, "cannot close"),
        (["--incident-id=INC-99999", "--investigate"], 3, "No incident"),
    ],
)
def test_incident_cli_errors(run, responder_user, project, args, code, message, ledger_count):
    incident = IncidentFactory(project=project, status="investigating")
    before = ledger_count()
    args = [a.format(inc=incident.public_id) for a in args]
    got, out, err = run("ai_incident_response", "--user=responder", *args, "--json")
    assert got == code
    assert out == ""
    assert message in err
    assert ledger_count() == before
    assert Incident.objects.count() == 1
    assert Incident.objects.get(pk=incident.pk).status == "investigating"


def test_auditor_cannot_log_through_the_cli(run, auditor_user, project, ledger_count):
    code, _out, err = run("ai_incident_response", "--user=auditor", "--project-id=proj-123", "--log", "--title=T")
    assert code == 3
    assert "not_allowed" in err
    assert not Incident.objects.exists()


def test_reassessment_cli_round_trip(run, staff_user, project):
    with time_machine.travel(T0, tick=False):
        code, out, err = run(
            "ai_reassessment_scheduler",
            "--user=staff",
            "--project-id=proj-123",
            "--create",
            "--assessment-type=transparency_audit",
            "--frequency-days=90",
            "--json",
        )
        assert (code, err) == (0, "")
        created = json.loads(out)
        ras = ReassessmentSchedule.objects.get().public_id
        assert (created["id"], created["next_due"], created["status"]) == (ras, "2026-05-31", "on_track")
        ScheduleFactory(project=project, assessment_type="bias_audit", next_due=dt.date(2026, 3, 1))
        ScheduleFactory(project=project, assessment_type="security_review", next_due=dt.date(2026, 3, 10))
        _, out, _ = run("ai_reassessment_scheduler", "--user=staff", "--project-id=proj-123", "--check-due", "--json")
        assert [(r["assessment_type"], r["status"]) for r in json.loads(out)] == [
            ("bias_audit", "overdue"),
            ("security_review", "due"),
        ]
        _, out, _ = run("ai_reassessment_scheduler", "--user=staff", "--project-id=proj-123", "--overdue", "--json")
        assert [r["assessment_type"] for r in json.loads(out)] == ["bias_audit"]
        code, out, err = run(
            "ai_reassessment_scheduler",
            "--user=staff",
            "--project-id=proj-123",
            "--mark-complete",
            f"--schedule-id={ras}",
            "--evidence-url=https://evidence.example.gov/ta-1",
            "--json",
        )
        done = json.loads(out)
        assert (code, done["next_due"]) == (0, "2026-08-29")
        assert done["completions"][0]["completed_by"] == "staff"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--create", "--assessment-type=bias_audit", "--frequency-days=0"], 2, "frequency_days"),
        (["--create", "--assessment-type=bias_audit", "--frequency-days=-3"], 2, "frequency_days"),
        (["--create", "--assessment-type=palmistry", "--frequency-days=30"], 2, "assessment_type"),
        (["--create", "--frequency-days=30"], 1, "--assessment-type"),
        (["--mark-complete", "--schedule-id=RAS-99999"], 3, "No reassessment schedule"),
        (["--mark-complete", "--schedule-id={ras}", "--completed-on=2999-01-01"], 2, "completed_on"),
    ],
)
def test_reassessment_cli_errors(run, staff_user, project, args, code, message, ledger_count):
    schedule = ScheduleFactory(project=project)
    before = ledger_count()
    args = [a.format(ras=schedule.public_id) for a in args]
    got, out, err = run("ai_reassessment_scheduler", "--user=staff", "--project-id=proj-123", *args, "--json")
    assert (got, out) == (code, "")
    assert message in err
    assert ledger_count() == before
    assert ReassessmentSchedule.objects.count() == 1
    assert not schedule.completions.exists()
