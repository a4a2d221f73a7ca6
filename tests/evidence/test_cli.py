"""ai_impact_assessor: --json output, --all with a summary, errors on stderr with a non-zero exit."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from accountability.models import ImpactAssessment
from tests.factories import UseCaseFactory

from .factories import ImpactAssessmentFactory

pytestmark = pytest.mark.django_db


def run(*args, user="auditor"):
    out, err = StringIO(), StringIO()
    call_command("ai_impact_assessor", *args, "--user", user, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_json(*args, user="auditor"):
    return json.loads(run(*args, "--json", user=user)[0])


def test_one_use_case(auditor_user, caio_user, project):
    uc = UseCaseFactory(project=project, high_impact=True, name="Screener")
    ia = ImpactAssessmentFactory(use_case=uc, scored=True, status="submitted")
    data = run_json("--project-id", "proj-123", "--use-case-id", uc.public_id)
    assert data["assessment"] == {"id": ia.public_id, "version": 1, "status": "submitted"}
    assert (data["score"]["risk_score"], data["risk_class"]) == ("62.50", "medium")
    assert data["score"]["under_current_policy"] == {"risk_score": "62.50", "risk_class": "medium"}
    assert data["missing_sections"] == [
        {"section": "F", "title": "Independent review", "missing": ["independent_review"]},
        {"section": "G", "title": "Signed risk acceptance", "missing": ["risk_acceptance"]},
    ]
    assert (data["independent_review"], data["risk_acceptance"]) == ({"status": "pending"}, {"status": "not_ready"})
    # Determined high-impact but scored medium: the disagreement is reported.
    assert data["determination_agrees"] is False
    assert data["determination_note"].startswith("Determined high-impact but scored medium")
    human, _ = run("--project-id", "proj-123", "--use-case-id", uc.public_id)
    assert f"Impact assessment of {uc.public_id}" in human
    assert "62.50" in human


def test_all_use_cases_with_summary(auditor_user, project):
    high = UseCaseFactory(project=project, high_impact=True)
    ImpactAssessmentFactory(
        use_case=high,
        scored=True,
        risk_score=Decimal("75.00"),
        risk_class="high",
        status="accepted",
        reviewed_at="2026-01-02T00:00:00Z",
        risk_accepted_at="2026-01-03T00:00:00Z",
        use_case_stage_at_acceptance="pilot",
    )
    none = UseCaseFactory(project=project)
    UseCaseFactory(project=project, stage="retired")
    data = run_json("--project-id", "proj-123", "--all")
    assert data["summary"] == {
        "use_cases": 2,
        "high": 1,
        "medium": 0,
        "low": 0,
        "unscored": 1,
        "determination_disagreements": 0,
        "without_accepted_assessment": 1,
    }
    by_id = {r["use_case_id"]: r for r in data["use_cases"]}
    assert (by_id[high.public_id]["determination_agrees"], by_id[high.public_id]["completed_before_deployment"]) == (
        True,
        True,
    )
    assert (by_id[none.public_id]["assessment"], by_id[none.public_id]["determination_agrees"]) == (None, None)
    assert [s["section"] for s in by_id[none.public_id]["missing_sections"]] == list("ABCDEFG")


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--all"], "--project-id is required.", 1),
        (["--project-id", "proj-123"], "Choose exactly one action: --use-case-id, --all.", 1),
        (["--project-id", "proj-123", "--all", "--use-case-id", "UC-00001"], "Choose exactly one action", 1),
        (["--project-id", "proj-999", "--all"], "not_found: No project 'proj-999'.", 3),
        (["--project-id", "proj-123", "--use-case-id", "UC-99999"], "not_found: No AI use case 'UC-99999'.", 3),
        (["--project-id", "proj-123", "--use-case-id", "nonsense"], "not_found: No AI use case with id 'nonsense'.", 3),
    ],
)
def test_errors_exit_non_zero(args, message, code, auditor_user, other_project, ledger_count):
    before = ledger_count()
    with pytest.raises(CommandError) as exc:
        run(*args, "--json")
    assert message in str(exc.value)
    assert exc.value.returncode == code
    assert (ledger_count(), ImpactAssessment.objects.count()) == (before, 0)


def test_other_projects_use_cases_are_not_found(auditor_user, other_project, project):
    theirs = UseCaseFactory(project=other_project)
    with pytest.raises(CommandError, match="not_found") as exc:
        run("--project-id", "proj-123", "--use-case-id", theirs.public_id)
    assert exc.value.returncode == 3


def test_stderr_and_exit_code_as_a_process():
    env = {k: v for k, v in os.environ.items() if k != "ICDEV_USER"}
    proc = subprocess.run(
        [sys.executable, "manage.py", "ai_impact_assessor", "--all", "--json"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "DJANGO_SETTINGS_MODULE": "icdev.settings_test"},
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.strip() == "CommandError: Say who is acting: --user USERNAME (or set ICDEV_USER)."
