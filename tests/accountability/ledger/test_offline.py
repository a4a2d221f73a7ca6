"""The standalone verifier runs with no Django importable: ``python -I -S`` (no site-packages at all)
with a path holding only this repository and ``cryptography`` (with the cffi backend it loads)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from accountability.ledger import keys
from accountability.ledger.append import append_entry
from accountability.ledger.services.export import ledger_export
from accountability.ledger.services.retention import ledger_purge

from .conftest import SYSTEM, action_entry

REPO = Path(__file__).resolve().parents[3]
BOOT = """
import importlib.util, runpy, sys
sys.path[:0] = {paths!r}
assert importlib.util.find_spec("django") is None, "django must not be importable here"
assert importlib.util.find_spec("rfc8785") is None and importlib.util.find_spec("rest_framework") is None
sys.argv = ["verifier", *{argv!r}]
runpy.run_module("accountability.ledger.offline", run_name="__main__")
"""


@pytest.fixture(scope="module")
def crypto_only(tmp_path_factory) -> Path:
    """A directory with cryptography and its cffi backend, and nothing else."""
    root = tmp_path_factory.mktemp("crypto-only")
    for name in ("cryptography", "cffi"):
        (root / name).symlink_to(Path(importlib.util.find_spec(name).origin).parent)
    backend = Path(importlib.util.find_spec("_cffi_backend").origin)
    (root / backend.name).symlink_to(backend)
    return root


def run_offline(crypto_only: Path, *argv: str) -> subprocess.CompletedProcess:
    code = BOOT.format(paths=[str(REPO), str(crypto_only)], argv=list(argv))
    return subprocess.run(  # noqa: S603 - a fixed interpreter and arguments built by the test
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=120, cwd="/"
    )


@pytest.fixture
def exported(project, grant, integrate, tmp_path, superuser):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now() - dt.timedelta(days=95)):
        append_entry(**action_entry(0))
    for n in range(1, 300):
        append_entry(**action_entry(n))
    integrate()
    ledger_purge(actor=SYSTEM)
    integrate()
    ledger_export(actor=superuser, directory=tmp_path / "export")
    return tmp_path / "export"


@pytest.mark.django_db
def test_the_offline_verifier_checks_an_export_without_django(exported, crypto_only):
    vkey = keys.signers()[0].verifier.vkey
    result = run_offline(crypto_only, "verify", str(exported), "--vkey", vkey, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"]
    assert report["checked"] == report["size"]
    assert report["size"] > 300
    assert report["purged_payloads"] == 1
    assert report["tiles_verified"] == 1
    assert report["checkpoints_verified"] >= 1


@pytest.mark.django_db
def test_the_offline_verifier_names_the_first_bad_entry(exported, crypto_only):
    payloads = exported / "payload" / "0.jsonl"
    lines = payloads.read_text().splitlines()
    item = json.loads(lines[10])
    item["salt"] = "A" * 22 + "=="  # a different salt: the payload no longer matches its commitment
    lines[10] = json.dumps(item)
    payloads.write_text("\n".join(lines) + "\n")
    result = run_offline(crypto_only, "verify", str(exported), "--vkey", keys.signers()[0].verifier.vkey)
    assert result.returncode == 1
    assert f"first bad entry: seq {item['seq']}" in result.stdout
    assert "payload_hash_mismatch" in result.stdout


@pytest.mark.django_db
def test_the_offline_verifier_rejects_an_untrusted_key(exported, crypto_only):
    from accountability.ledger.offline.note import Signer

    stranger = Signer.generate(keys.origin()).verifier.vkey
    result = run_offline(crypto_only, "verify", str(exported), "--vkey", stranger)
    assert result.returncode == 1
    assert "does not verify" in result.stderr


def test_the_offline_package_imports_nothing_from_django():
    """Belt and braces for the subprocess test: no module of the package names django."""
    for path in (REPO / "accountability" / "ledger" / "offline").glob("*.py"):
        text = path.read_text()
        assert "import django" not in text, path
        assert "from django" not in text, path
        assert "from accountability.ledger." not in text.replace("from accountability.ledger.offline", ""), path


@pytest.mark.django_db
def test_an_auditor_checks_one_entrys_proof_offline(exported, crypto_only, tmp_path):
    from accountability.ledger.models import LedgerEntry
    from accountability.ledger.selectors import entry_inclusion

    entry = LedgerEntry.objects.get(seq=200)
    inclusion = entry_inclusion(entry)
    (tmp_path / "entry.tlog-proof").write_text(inclusion.tlog_proof)
    (tmp_path / "leaf.json").write_bytes(bytes(entry.leaf_bytes))
    vkey = keys.signers()[0].verifier.vkey
    ok = run_offline(
        crypto_only,
        "verify-proof",
        str(tmp_path / "entry.tlog-proof"),
        "--leaf",
        str(tmp_path / "leaf.json"),
        "--vkey",
        vkey,
    )
    assert ok.returncode == 0
    assert "OK: entry 200 is in" in ok.stdout
    (tmp_path / "leaf.json").write_bytes(bytes(entry.leaf_bytes).replace(b'"audit"', b'"full"'))
    bad = run_offline(
        crypto_only,
        "verify-proof",
        str(tmp_path / "entry.tlog-proof"),
        "--leaf",
        str(tmp_path / "leaf.json"),
        "--vkey",
        vkey,
    )
    assert bad.returncode == 1
    assert "is NOT in" in bad.stdout
