"""accountability_manager: --json output, permissions of --user, errors on stderr with a non-zero exit."""

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from accountability.models import CAIODesignation, OversightPlan
from tests.factories import PlanVersionFactory, UseCaseFactory

pytestmark = pytest.mark.django_db


def run(*args, user="staff"):
    out, err = StringIO(), StringIO()
    argv = [*args, "--user", user] if user else list(args)
    call_command("accountability_manager", *argv, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_json(*args, user="staff"):
    out, _ = run(*args, "--json", user=user)
    return json.loads(out)


def test_create_and_list_plans(staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    data = run_json(
        "--project-id", "proj-123", "--create-plan", "--use-case-id", uc.public_id, "--template", "agentic_workflow"
    )
    plan_id = OversightPlan.objects.get().public_id
    assert (data["plan"], data["version"], data["status"]) == (plan_id, 1, "draft")
    assert ledger_count() == before + 1
    listing = run_json("--project-id", "proj-123", "--list-plans")
    assert [(p["id"], p["use_case"], p["has_draft"]) for p in listing] == [(plan_id, uc.public_id, True)]
    human, _ = run("--project-id", "proj-123", "--list-plans")
    assert plan_id in human
    assert "Oversight plans of proj-123" in human


def test_plan_detail_and_approve(staff_user, caio_user, project):
    version = PlanVersionFactory(plan__project=project, created_by=staff_user)
    plan_id = version.plan.public_id
    assert run_json("--plan-id", plan_id)["versions"][0]["status"] == "draft"
    with pytest.raises(CommandError, match="Separation of duties") as exc:
        run("--plan-id", plan_id, "--approve")
    assert exc.value.returncode == 3
    data = run_json("--plan-id", plan_id, "--approve", user="caio")
    assert (data["active_version"], data["versions"][0]["approved_by"]) == (1, "caio")


def test_designate_caio_and_status(staff_user, project, ledger_count):
    data = run_json(
        "--project-id",
        "proj-123",
        "--designate-caio",
        "--official-name",
        "Jane Smith",
        "--official-email",
        "jane@agency.gov",
        "--scope",
        "agency",
        "--effective-date",
        "2026-01-01",
    )
    caio_id = CAIODesignation.objects.get().public_id
    assert (data["id"], data["status"], data["authority_scope"]) == (caio_id, "active", "agency")
    status = run_json("--project-id", "proj-123", "--caio-status")
    assert (status["has_active_caio"], status["active"]["official_email"]) == (True, "jane@agency.gov")
    before = ledger_count()
    with pytest.raises(CommandError, match="reason: Give the reason"):
        run("--revoke-caio", caio_id)
    assert ledger_count() == before
    assert run_json("--revoke-caio", caio_id, "--reason", "Left")["status"] == "revoked"


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (
            [
                "--project-id",
                "proj-123",
                "--designate-caio",
                "--official-name",
                "J",
                "--official-email",
                "bad",
                "--scope",
                "agency",
            ],
            "official_email: Enter a valid email address.",
            2,
        ),
        (
            ["--project-id", "proj-123", "--designate-caio", "--official-name", "J"],
            "--designate-caio needs --official-email, --scope",
            1,
        ),
        (
            [
                "--project-id",
                "proj-123",
                "--designate-caio",
                "--official-name",
                "J",
                "--official-email",
                "j@a.gov",
                "--scope",
                "agency",
                "--effective-date",
                "May 1st",
            ],
            "effective_date: 'May 1st' is not a date",
            2,
        ),
        (["--project-id", "proj-999", "--list-plans"], "not_found: No project 'proj-999'.", 3),
        (["--list-plans"], "--project-id is required", 1),
        (["--project-id", "proj-123"], "Choose exactly one action", 1),
        (["--project-id", "proj-123", "--list-plans", "--caio-status"], "Choose exactly one action", 1),
        (["--project-id", "proj-123", "--create-plan", "--template", "nope"], "template: Unknown template", 2),
    ],
)
def test_bad_input_exits_non_zero_and_writes_nothing(args, message, code, staff_user, other_project, ledger_count):
    before = ledger_count()
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")) as exc:
        run(*args, "--json")
    assert exc.value.returncode == code
    assert ledger_count() == before
    assert CAIODesignation.objects.count() == 0
    assert OversightPlan.objects.count() == 0


def test_user_is_required_and_must_exist(project):
    with pytest.raises(CommandError, match="Say who is acting"):
        run("--project-id", "proj-123", "--list-plans", user="")
    with pytest.raises(CommandError, match="No active user 'ghost'"):
        run("--project-id", "proj-123", "--list-plans", user="ghost")


def test_other_projects_are_invisible_on_the_cli(outsider, staff_user, project):
    plan_id = PlanVersionFactory(plan__project=project).plan.public_id
    with pytest.raises(CommandError, match="not_found"):
        run("--project-id", "proj-123", "--list-plans", user="outsider")
    with pytest.raises(CommandError, match=f"not_found: No oversight plan '{plan_id}'"):
        run("--plan-id", plan_id, user="outsider")


def test_auditor_reads_but_cannot_write(auditor_user, project):
    assert run_json("--project-id", "proj-123", "--caio-status", user="auditor")["has_active_caio"] is False
    with pytest.raises(CommandError, match="not_allowed") as exc:
        run("--project-id", "proj-123", "--create-plan", "--name", "P", user="auditor")
    assert exc.value.returncode == 3


def test_errors_reach_stderr_when_run_as_a_process():
    # As a real process: the message goes to stderr, stdout stays empty (so --json output stays parseable).
    env = {k: v for k, v in os.environ.items() if k != "ICDEV_USER"}
    proc = subprocess.run(
        [sys.executable, "manage.py", "accountability_manager", "--list-plans", "--json"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "DJANGO_SETTINGS_MODULE": "icdev.settings_test"},
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.strip() == "CommandError: Say who is acting: --user USERNAME (or set ICDEV_USER)."
