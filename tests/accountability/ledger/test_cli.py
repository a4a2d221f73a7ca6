"""Ledger commands: verification with a progress bar and a non-zero exit naming the first bad entry,
export, audit queries, recording from JSON, the integrator and the purge; bad input exits non-zero
with the message on stderr, and writes nothing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accountability.ledger.models import LedgerEntry, VerificationRun
from accountability.ledger.selectors import checkpoint_latest
from accountability.ledger.services.entries import ledger_entry_append

from .conftest import decision


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def logged(project, staff_user, grant, integrate):
    result = ledger_entry_append(actor=staff_user, project=project, **decision())
    stray = ledger_entry_append(
        actor=staff_user,
        project=project,
        **decision(action={"type": "data.export", "description": "d", "rationale": "r"}),
    )
    integrate()
    return result.entry_id, stray


@pytest.mark.django_db
def test_ledger_verify_passes_and_records_the_run(logged):
    out, _ = run("ledger_verify", "--json")
    report = json.loads(out)
    assert report["ok"]
    assert report["chain_integrity"] == 100.0
    assert report["first_bad_entry"] is None
    assert VerificationRun.objects.get().ok
    human, _ = run("ledger_verify", "--no-progress")
    assert human.startswith("OK: ")


@pytest.mark.django_db
def test_ledger_verify_fails_with_the_first_bad_entry(logged):
    entry_id, _ = logged
    from .conftest import as_dba

    seq = LedgerEntry.objects.get(entry_id=entry_id).seq
    with as_dba() as cur:
        cur.execute("UPDATE ledger_ledgerentry SET payload = %s WHERE seq = %s", [b'{"edited":true}', seq])
    with pytest.raises(CommandError) as exc:
        run("ledger_verify", "--no-progress")
    assert exc.value.returncode == 1
    assert f"first bad entry seq {seq} ({entry_id}): payload_hash_mismatch" in str(exc.value)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("ledger_verify", "--json", stdout=out, stderr=StringIO())
    assert json.loads(out.getvalue())["first_bad_entry"]["entry_id"] == entry_id


@pytest.mark.django_db
def test_ledger_verify_from_a_saved_checkpoint(logged, tmp_path):
    saved = tmp_path / "checkpoint.note"
    saved.write_text(checkpoint_latest().note)
    out, _ = run("ledger_verify", "--since-checkpoint", "--checkpoint", str(saved), "--json")
    assert json.loads(out)["from_size"] == checkpoint_latest().tree_size
    with pytest.raises(CommandError) as exc:
        run("ledger_verify", "--checkpoint", str(tmp_path / "missing.note"))
    assert exc.value.returncode == 2
    assert "checkpoint" in str(exc.value)
    with pytest.raises(CommandError) as exc:
        run("ledger_verify", "--full", "--since-checkpoint")
    assert "exactly one" in str(exc.value)


@pytest.mark.django_db
def test_ledger_export_writes_a_verifiable_directory(logged, tmp_path, auditor_user):
    out, _ = run("ledger_export", str(tmp_path / "x"), "--user", "auditor", "--json")
    manifest = json.loads(out)
    assert manifest["size"] == checkpoint_latest().tree_size
    assert manifest["withheld_seq_ranges"] == []
    assert (tmp_path / "x" / "checkpoint").read_text() == checkpoint_latest().note
    assert (tmp_path / "x" / "tile" / "entries" / f"000.p/{manifest['size']}").is_file()
    with pytest.raises(CommandError) as exc:
        run("ledger_export", str(tmp_path / "x"), "--user", "auditor")
    assert exc.value.returncode == 2
    assert "not an empty directory" in str(exc.value)
    with pytest.raises(CommandError) as exc:
        run("ledger_export", str(tmp_path / "y"))
    assert "--user" in str(exc.value)


@pytest.mark.django_db
def test_an_export_by_another_projects_user_withholds_our_payloads(logged, tmp_path, outsider):
    out, _ = run("ledger_export", str(tmp_path / "x"), "--user", "outsider", "--json")
    manifest = json.loads(out)
    ours = sorted(LedgerEntry.objects.filter(project_key="proj-123").values_list("seq", flat=True))
    withheld = {s for a, b in manifest["withheld_seq_ranges"] for s in range(a, b + 1)}
    assert withheld == set(ours)
    exported = (tmp_path / "x" / "payload" / "0.jsonl").read_text()
    assert all(json.loads(line)["seq"] not in withheld for line in exported.splitlines())


@pytest.mark.django_db
def test_ledger_audit_queries(logged, auditor_user, reviewer_user):
    entry_id, stray = logged
    out, _ = run("ledger_audit", "--user", "auditor", "--task", "TASK-1", "--json")
    assert [r["entry_id"] for r in json.loads(out)][:2] == [entry_id, stray.entry_id]
    out, _ = run("ledger_audit", "--user", "auditor", "--violations", "--start", "2000-01-01", "--end", "2100-01-01")
    assert stray.violations[0] in out
    out, _ = run("ledger_audit", "--user", "auditor", "--explain", entry_id)
    assert out.startswith("explanation: On ")
    out, err = run("ledger_audit", "--user", "auditor", "--by-model", "claude-opus", "--json")
    assert len(json.loads(out)) == 2
    assert err == ""
    out, err = run("ledger_audit", "--user", "auditor", "--by-model", "claude-opus", "--json", "--limit", "1")
    assert len(json.loads(out)) == 1
    assert err.strip() == "More entries matched than the 1 shown: narrow the query or raise --limit (at most 5000)."
    out, _ = run("ledger_audit", "--user", "auditor", "--metrics", "--json")
    assert json.loads(out)["violation_rate"]["violations"] == 1
    with pytest.raises(CommandError) as exc:
        run("ledger_audit", "--user", "auditor", "--violations", "--start", "someday", "--end", "2100-01-01")
    assert exc.value.returncode == 2
    assert "start" in str(exc.value)
    with pytest.raises(CommandError) as exc:
        run("ledger_audit", "--user", "reviewer", "--task", "TASK-1")
    assert exc.value.returncode == 3


@pytest.mark.django_db
def test_ledger_record_from_json(project, staff_user, grant, tmp_path, ledger_count):
    body = {k: v for k, v in decision().items() if k != "performer"} | {"actor": decision()["performer"]}
    good = tmp_path / "decision.json"
    good.write_text(json.dumps(body))
    before = ledger_count()
    out, _ = run("ledger_record", "--user", "staff", "--project-id", "proj-123", "--entry", str(good), "--json")
    assert json.loads(out)["entry_type"] == "decision"
    assert ledger_count() == before + 1
    for content, needle in [
        ("{not json", "Not JSON"),
        (json.dumps({**body, "extra": 1}), "extra"),
        (json.dumps({**body, "entry_type": "governance"}), "entry_type"),
    ]:
        bad = tmp_path / "bad.json"
        bad.write_text(content)
        with pytest.raises(CommandError) as exc:
            run("ledger_record", "--user", "staff", "--project-id", "proj-123", "--entry", str(bad))
        assert exc.value.returncode == 2
        assert needle in str(exc.value)
    assert ledger_count() == before + 1


@pytest.mark.django_db
def test_ledger_integrate_once_and_purge_dry_run(logged):
    out, _ = run("ledger_integrate", "--once", "--json")
    assert json.loads(out) == {"integrated": 0}
    out, _ = run("ledger_purge", "--dry-run", "--json")
    assert json.loads(out)["count"] == 0
    assert json.loads(out)["dry_run"]
    with pytest.raises(CommandError) as exc:
        run("ledger_purge", "--entry", logged[0])
    assert exc.value.returncode == 4
    assert "has not expired" in str(exc.value)
