"""Model signatures outside the append path: the model's own tools (``model-keygen``, ``sign-record``),
the export's ``model_keys.json``, and the opt-in ``--model-signatures`` pass of the offline verifier and
of ``ledger_verify``. Each failure is named with its entry and reason, and makes the run fail; without
the flag none of it runs. The offline package runs as in test_offline: no Django, no site-packages."""

from __future__ import annotations

import base64
import datetime as dt
import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from accountability.ledger import keys
from accountability.ledger.append import append_entry
from accountability.ledger.build import build
from accountability.ledger.models import LedgerEntry, ModelKey, VerificationRun
from accountability.ledger.offline import signing
from accountability.ledger.offline.formats import format_time
from accountability.ledger.services.export import ledger_export
from accountability.ledger.services.integration import integrate_pending
from accountability.ledger.store import store

from .conftest import action_entry
from .test_offline import crypto_only, run_offline  # noqa: F401 - crypto_only is a fixture

NOW = timezone.now


def _public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


def register(project, key: Ed25519PrivateKey, model_id: str = "claude-opus", revoked_at=None) -> ModelKey:
    """A registry row as the model-key services will write it (they are built elsewhere)."""
    public = _public(key)
    return ModelKey.objects.create(
        project=project,
        model_id=model_id,
        kid=signing.key_id(public),
        public_key=signing.b64(public),
        registered_at=NOW() - dt.timedelta(days=1),
        revoked_at=revoked_at,
    )


def signed_entry(key: Ed25519PrivateKey, n: int, *, occurred_at=None, tamper: bool = False) -> str:
    """Store an AI record whose document carries the model's signature, as the append path will once
    it accepts one: ``{alg, kid, digest, sig}`` under ``integrity.signatures``."""
    record = action_entry(n, **({"occurred_at": format_time(occurred_at)} if occurred_at else {}))
    built = build(**record)
    item = signing.sign(key, keys.origin(), record)[signing.FIELD][0]
    sig = base64.b64decode(item["sig"])
    if tamper:  # one bit of the signature flipped
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    stored = {**item, "digest": signing.b64(signing.record_digest(record)), "sig": signing.b64(sig)}
    built.document["integrity"] = {"signatures": [stored]}
    prepared = built.prepared()
    with transaction.atomic():
        store(prepared)
    return built.entry_id


def seq_of(entry_id: str) -> int:
    return LedgerEntry.objects.get(entry_id=entry_id).seq


@pytest.fixture
def model_key(project):
    key = Ed25519PrivateKey.generate()
    register(project, key)
    return key


@pytest.fixture
def signed_log(project, model_key):
    """Two unsigned entries and six signed ones: two whose signatures hold (one made with a key revoked
    since) and one for each failure. Returns {entry id: expected reason or ""}."""
    stranger, other_model, revoked = (Ed25519PrivateKey.generate() for _ in range(3))
    register(project, other_model, model_id="gpt-x")
    register(project, revoked, revoked_at=NOW() - dt.timedelta(hours=1))
    append_entry(**action_entry(0))
    expected = {
        signed_entry(model_key, 1): "",
        signed_entry(model_key, 2, tamper=True): "model_signature_invalid",
        signed_entry(stranger, 3): "model_key_unknown",
        signed_entry(other_model, 4): "model_key_mismatch",
        signed_entry(revoked, 5): "model_key_revoked",
        signed_entry(revoked, 6, occurred_at=NOW() - dt.timedelta(hours=2)): "",
    }
    append_entry(**action_entry(7))
    integrate_pending()
    return expected


def expected_problems(expected: dict[str, str]) -> set[tuple[int, str, str]]:
    return {(seq_of(entry_id), entry_id, reason) for entry_id, reason in expected.items() if reason}


def export(actor, tmp_path, name: str = "export"):
    ledger_export(actor=actor, directory=tmp_path / name)
    return tmp_path / name


def vkey() -> str:
    return keys.signers()[0].verifier.vkey


# --- the model's tools ----------------------------------------------------------------------------


def test_model_keygen_and_sign_record_round_trip_without_django(crypto_only, tmp_path):  # noqa: F811
    made = run_offline(crypto_only, "model-keygen")
    assert made.returncode == 0, made.stderr
    pair = json.loads(made.stdout)
    assert set(pair) == {"private_key", "public_key", "kid"}
    assert "private key stays with the model" in made.stderr
    public = signing.parse_public_key(pair["public_key"])
    assert pair["kid"] == signing.key_id(public)
    seed = base64.b64decode(pair["private_key"])
    assert _public(Ed25519PrivateKey.from_private_bytes(seed)) == public

    (tmp_path / "model.key").write_text(pair["private_key"] + "\n")
    record = {**action_entry(1), "model_signatures": [{"alg": "ed25519", "kid": "stale", "sig": ""}]}
    (tmp_path / "record.json").write_text(json.dumps(record))
    key_file, record_file, out = str(tmp_path / "model.key"), str(tmp_path / "record.json"), tmp_path / "signed.json"
    done = run_offline(
        crypto_only, "sign-record", record_file, "--key-file", key_file, "--origin", "log.example/a", "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    signed = json.loads(out.read_text())
    (item,) = signed.pop("model_signatures")  # the stale signature is replaced, not kept
    assert signed == action_entry(1)
    assert item["alg"] == "ed25519"
    assert item["kid"] == pair["kid"]
    digest = signing.record_digest(signed)
    assert signing.verify(public, "log.example/a", digest, base64.b64decode(item["sig"]))
    assert not signing.verify(public, "log.example/b", digest, base64.b64decode(item["sig"]))
    to_stdout = run_offline(crypto_only, "sign-record", record_file, "--key-file", key_file, "--origin", "o")
    assert to_stdout.returncode == 0
    assert json.loads(to_stdout.stdout)["model_signatures"][0]["kid"] == pair["kid"]


@pytest.mark.parametrize(
    ("record", "key", "message"),
    [
        ('{"action": {"score": 0.5}}', None, "floats have no single JSON form"),
        ('{"d\\u00e9cision": "x"}', None, "record keys must be ASCII strings"),
        ('["not", "an", "object"]', None, "the record must be a JSON object"),
        ("{not json", None, "error: Expecting property name"),
        ('{"a": 1}', "not base64!", "the private key is not valid base64"),
        ('{"a": 1}', base64.b64encode(b"x" * 31).decode(), "the private key must be 32 bytes, not 31"),
    ],
)
def test_sign_record_refuses_what_it_cannot_sign(crypto_only, tmp_path, record, key, message):  # noqa: F811
    (tmp_path / "model.key").write_text(key or signing.b64(b"k" * 32))
    (tmp_path / "record.json").write_text(record)
    out = tmp_path / "signed.json"
    args = ["sign-record", str(tmp_path / "record.json"), "--key-file", str(tmp_path / "model.key")]
    done = run_offline(crypto_only, *args, "--origin", "o", "-o", str(out))
    assert done.returncode == 2
    assert message in done.stderr
    assert not out.exists()


def test_sign_record_names_a_missing_key_file(crypto_only, tmp_path):  # noqa: F811
    (tmp_path / "record.json").write_text("{}")
    args = ["sign-record", str(tmp_path / "record.json"), "--key-file", str(tmp_path / "absent.key")]
    done = run_offline(crypto_only, *args, "--origin", "o")
    assert done.returncode == 2
    assert f"error: {tmp_path / 'absent.key'}: No such file or directory" in done.stderr


# --- the export -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_export_lists_the_model_keys_its_user_may_read(
    project, other_project, model_key, superuser, outsider, tmp_path
):
    revoked_at = NOW() - dt.timedelta(hours=1)
    ours = ModelKey.objects.get()
    theirs = register(other_project, Ed25519PrivateKey.generate(), model_id="gpt-x", revoked_at=revoked_at)
    append_entry(**action_entry(0))
    integrate_pending()
    everything = export(superuser, tmp_path, "all")
    manifest = json.loads((everything / "manifest.json").read_text())
    assert manifest["model_keys"] == {"file": "model_keys.json", "keys": 2}
    rows = json.loads((everything / "model_keys.json").read_text())
    assert rows == [
        {
            "project": "proj-123",
            "model_id": "claude-opus",
            "kid": ours.kid,
            "public_key": ours.public_key,
            "registered_at": format_time(ours.registered_at),
            "revoked_at": None,
        },
        {
            "project": "proj-999",
            "model_id": "gpt-x",
            "kid": theirs.kid,
            "public_key": theirs.public_key,
            "registered_at": format_time(theirs.registered_at),
            "revoked_at": format_time(revoked_at),
        },
    ]
    scoped = export(outsider, tmp_path, "outsider")
    assert [row["kid"] for row in json.loads((scoped / "model_keys.json").read_text())] == [theirs.kid]
    assert json.loads((scoped / "manifest.json").read_text())["model_keys"]["keys"] == 1


# --- offline verification -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_export_verifies_with_its_model_signatures(project, model_key, superuser, crypto_only, tmp_path):  # noqa: F811
    first, second = signed_entry(model_key, 1), signed_entry(model_key, 2)
    append_entry(**action_entry(3))
    integrate_pending()
    root = export(superuser, tmp_path)
    result = run_offline(crypto_only, "verify", str(root), "--vkey", vkey(), "--model-signatures", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"]
    assert report["problems"] == []
    assert report["model_signatures_checked"] == 2
    assert {seq_of(first), seq_of(second)} < set(range(report["size"]))
    human = run_offline(crypto_only, "verify", str(root), "--vkey", vkey(), "--model-signatures")
    assert human.returncode == 0
    assert human.stdout.startswith("OK: ")
    assert "; 2 model signatures checked" in human.stdout


@pytest.mark.django_db
def test_each_failing_model_signature_is_named_offline(signed_log, superuser, crypto_only, tmp_path):  # noqa: F811
    root = export(superuser, tmp_path)
    result = run_offline(crypto_only, "verify", str(root), "--vkey", vkey(), "--model-signatures", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert not report["ok"]
    assert report["model_signatures_checked"] == 6
    assert {(p["seq"], p["entry_id"], p["reason"]) for p in report["problems"]} == expected_problems(signed_log)
    assert report["problem_count"] == 4
    assert report["bad_entries"] == 4
    human = run_offline(crypto_only, "verify", str(root), "--vkey", vkey(), "--model-signatures")
    assert human.returncode == 1
    first = min(expected_problems(signed_log))
    assert f"first bad entry: seq {first[0]} ({first[1]}): {first[2]}: " in human.stdout


@pytest.mark.django_db
def test_without_the_flag_model_signatures_are_not_checked_offline(signed_log, superuser, crypto_only, tmp_path):  # noqa: F811
    root = export(superuser, tmp_path)
    (root / "model_keys.json").unlink()  # not even looked for
    result = run_offline(crypto_only, "verify", str(root), "--vkey", vkey(), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"]
    assert "model_signatures_checked" not in report
    human = run_offline(crypto_only, "verify", str(root), "--vkey", vkey())
    assert "model signatures" not in human.stdout
    asked = run_offline(crypto_only, "verify", str(root), "--vkey", vkey(), "--model-signatures")
    assert asked.returncode == 1
    assert "error: cannot check model signatures: model_keys.json is missing" in asked.stderr


@pytest.mark.django_db
def test_a_model_keys_file_with_a_wrong_kid_is_refused(project, model_key, superuser, crypto_only, tmp_path):  # noqa: F811
    signed_entry(model_key, 1)
    integrate_pending()
    root = export(superuser, tmp_path)
    rows = json.loads((root / "model_keys.json").read_text())
    rows[0]["kid"] = "0" * 16
    (root / "model_keys.json").write_text(json.dumps(rows))
    result = run_offline(crypto_only, "verify", str(root), "--vkey", vkey(), "--model-signatures")
    assert result.returncode == 1
    assert "model key 0: kid 0000000000000000 is not the id of its public key" in result.stderr


# --- online verification --------------------------------------------------------------------------


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_ledger_verify_checks_model_signatures_when_asked(signed_log):
    out, _ = run("ledger_verify", "--json")
    report = json.loads(out)
    assert report["ok"]
    assert "model_signatures_checked" not in report
    human, _ = run("ledger_verify", "--no-progress")
    assert human.startswith("OK: ")
    assert "model signatures" not in human

    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("ledger_verify", "--model-signatures", "--json", stdout=out, stderr=StringIO())
    assert exc.value.returncode == 1
    report = json.loads(out.getvalue())
    assert report["model_signatures_checked"] == 6
    assert {(p["seq"], p["entry_id"], p["reason"]) for p in report["problems"]} == expected_problems(signed_log)
    run_row = VerificationRun.objects.order_by("-id").first()
    assert not run_row.ok
    assert {p["reason"] for p in run_row.problems} == {
        "model_signature_invalid",
        "model_key_unknown",
        "model_key_mismatch",
        "model_key_revoked",
    }
    first = min(expected_problems(signed_log))
    assert (run_row.first_bad_seq, run_row.first_bad_entry_id, run_row.first_bad_reason) == first

    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("ledger_verify", "--model-signatures", "--no-progress", stdout=out, stderr=StringIO())
    assert f"first bad entry seq {first[0]} ({first[1]}): {first[2]}" in str(exc.value)
    assert ", 6 model signatures checked" in out.getvalue()
    assert f"  seq {first[0]} {first[1]}: {first[2]}: " in out.getvalue()


@pytest.mark.django_db
def test_ledger_verify_passes_good_model_signatures(project, model_key):
    signed_entry(model_key, 1)
    integrate_pending()
    out, _ = run("ledger_verify", "--model-signatures", "--json")
    report = json.loads(out)
    assert report["ok"]
    assert report["model_signatures_checked"] == 1
    assert VerificationRun.objects.get().ok
