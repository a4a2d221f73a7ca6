"""accountability_manager's appeal and ethics-review actions (seed 003 §9), with --json; errors exit
non-zero with the message on stderr and write nothing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management.base import CommandError

from accountability.management.commands.accountability_manager import Command
from accountability.models import Appeal, EthicsReview

from .factories import new_trace_id

pytestmark = pytest.mark.django_db


def run(*args, user):
    """Run the command as ``manage.py`` does (without closing the test's connection): (exit code, stdout,
    stderr); a CommandError exits with its return code and its message on stderr."""
    out, err = StringIO(), StringIO()
    command = Command(stdout=out, stderr=err)
    try:
        options = vars(
            command.create_parser("manage.py", "accountability_manager").parse_args(["--user", user.username, *args])
        )
        command.execute(*options.pop("args", ()), **options)
    except CommandError as exc:
        err.write(f"CommandError: {exc}")
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_submit_list_and_resolve_an_appeal(project, appellant_user, staff_user, reviewer_user):
    trace = new_trace_id()
    code, out, _ = run(
        "--project-id", project.key, "--submit-appeal", "--decision-trace-id", trace,
        "--reason", "Incorrect classification", "--json", user=appellant_user,
    )  # fmt: skip
    assert code == 0
    submitted = json.loads(out)
    assert (submitted["status"], submitted["decision_trace_id"]) == ("submitted", trace)
    assert "reviewer" not in submitted  # the appellant's view
    code, out, _ = run("--project-id", project.key, "--list-appeals", "--json", user=staff_user)
    assert [a["id"] for a in json.loads(out)] == [submitted["id"]]
    code, out, _ = run("--appeal-id", submitted["id"], "--assign-reviewer", "reviewer", "--json", user=staff_user)
    assert json.loads(out)["reviewer"] == "reviewer"
    code, out, _ = run(
        "--appeal-id", submitted["id"], "--resolve", "--outcome", "upheld",
        "--resolution", "Decision reversed", "--json", user=reviewer_user,
    )  # fmt: skip
    assert code == 0
    assert (json.loads(out)["status"], json.loads(out)["resolution"]) == ("resolved", "Decision reversed")
    code, out, _ = run("--project-id", project.key, "--list-appeals", user=staff_user)
    assert submitted["id"] in out
    assert "resolved" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--submit-appeal", "--decision-trace-id", "nothex", "--reason", "r"], 2, "decision_trace_id"),
        (["--submit-appeal", "--reason", "r"], 1, "needs --decision-trace-id and --reason"),
        (["--submit-appeal", "--decision-trace-id", "0" * 32, "--reason", "r"], 2, "all-zero"),
    ],
)
def test_bad_appeal_input_exits_non_zero_and_writes_nothing(project, appellant_user, args, code, message, ledger_count):
    entries = ledger_count()
    exit_code, out, err = run("--project-id", project.key, *args, "--json", user=appellant_user)
    assert exit_code == code
    assert message in err
    assert out == ""
    assert (Appeal.objects.count(), ledger_count()) == (0, entries)


def test_denials_exit_non_zero(project, appeal, reviewer_user, outsider, ledger_count):
    entries = ledger_count()
    code, _, err = run("--appeal-id", appeal.public_id, "--assign-reviewer", "reviewer", user=outsider)
    assert (code, "not_found" in err) == (3, True)
    code, _, err = run(
        "--appeal-id", appeal.public_id, "--resolve", "--outcome", "upheld", "--resolution", "x", user=reviewer_user
    )
    assert code == 3
    code, _, err = run("--appeal-id", appeal.public_id, "--resolve", "--resolution", "x", user=reviewer_user)
    assert code == 3  # invisible to this reviewer before the flag check: nothing leaks
    assert ledger_count() == entries
    assert Appeal.objects.get(pk=appeal.pk).status == "submitted"


def test_create_start_and_list_reviews(project, use_case, staff_user, board, caio_user):
    code, out, err = run(
        "--project-id", project.key, "--create-review", "--use-case-id", use_case.public_id,
        "--reviewer-id", "board.legal:legal", "--reviewer-id", board[1].email,
        "--reviewer-id", "board.community:affected_community:affected_community", "--start", "--json",
        user=staff_user,
    )  # fmt: skip
    assert code == 0, err
    review = json.loads(out)
    assert (review["status"], [m["discipline"] for m in review["board"]]) == (
        "in_progress",
        ["legal", "domain", "affected_community"],
    )
    code, out, _ = run("--project-id", project.key, "--list-reviews", "--json", user=board[0])
    assert [(r["id"], r["status"]) for r in json.loads(out)] == [(review["id"], "in_progress")]
    code, out, _ = run("--review-id", review["id"], "--json", user=caio_user)
    assert json.loads(out)["versions"][0]["version"] == 1


def test_bad_review_input_exits_non_zero_and_writes_nothing(project, use_case, staff_user, board, ledger_count):
    entries = ledger_count()
    for args, code in (
        (["--reviewer-id", "board.legal:astrology"], 2),
        (["--reviewer-id", "nobody"], 1),
        (["--reviewer-id", "staff:legal"], 2),  # the submitter on their own board
    ):
        exit_code, out, err = run(
            "--project-id", project.key, "--create-review", "--use-case-id", use_case.public_id, *args, "--json",
            user=staff_user,
        )  # fmt: skip
        assert (exit_code, out) == (code, "")
        assert err
    code, _, err = run("--project-id", project.key, "--create-review", user=staff_user)
    assert (code, "--use-case-id" in err) == (1, True)
    assert (EthicsReview.objects.count(), ledger_count()) == (0, entries)
