"""Settings, the governance policy file, the AGPL source offer, the demo loader and the portal."""

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from accountability.config import load_policy
from accountability.ledger.models import LedgerEntry
from accountability.models import AIUseCase, CAIODesignation, Membership, OversightPlanVersion, Project


def _settings_process(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ICDEV_"))}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS)",
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**clean, "DJANGO_SETTINGS_MODULE": "icdev.settings", **env},
    )


def test_production_requires_a_secret_key():
    proc = _settings_process()
    assert proc.returncode != 0
    assert "DJANGO_SECRET_KEY is required when ICDEV_ENV=production" in proc.stderr


def test_production_defaults_are_safe():
    proc = _settings_process(DJANGO_SECRET_KEY="x" * 60)
    assert proc.stdout.split() == ["False", "True", "31536000"]


def test_development_turns_debug_on():
    assert _settings_process(ICDEV_ENV="development").stdout.split() == ["True", "False", "0"]


def test_sqlite_file_connections_get_the_configured_pragmas(tmp_path):
    # Every connection runs the init commands: WAL with NORMAL syncs, checkpoints every 10,000 pages
    # and the WAL truncated back to 64 MiB after one (README, "SQLite appends, third round").
    script = (
        "import django; django.setup(); from django.db import connection; cur = connection.cursor(); "
        "print(*[cur.execute(f'PRAGMA {p}').fetchone()[0] for p in "
        "('journal_mode', 'synchronous', 'wal_autocheckpoint', 'journal_size_limit')])"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ICDEV_", "DATABASE_"))}
    env = {**clean, "DJANGO_SETTINGS_MODULE": "icdev.settings", "ICDEV_ENV": "development"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'pragmas.sqlite3'}"
    proc = subprocess.run(  # noqa: S603 - this interpreter with a fixed script
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.stdout.split() == ["wal", "1", "10000", "67108864"], proc.stderr


def test_policy_file_is_validated(tmp_path):
    good = yaml.safe_load(Path(settings.ICDEV_ACCOUNTABILITY_CONFIG).read_text(encoding="utf-8"))
    bad = tmp_path / "policy.yaml"
    good["caio"].pop("delegable_powers")
    bad.write_text(yaml.safe_dump(good))
    with pytest.raises(ImproperlyConfigured, match=r"Invalid governance policy .* at caio: 'delegable_powers'"):
        load_policy(bad)
    (tmp_path / "broken.yaml").write_text("version: [")
    with pytest.raises(ImproperlyConfigured, match="Cannot read the governance policy"):
        load_policy(tmp_path / "broken.yaml")
    assert load_policy(settings.ICDEV_ACCOUNTABILITY_CONFIG)["caio"]["non_delegable_powers"] == ["waiver"]


@pytest.mark.django_db
def test_source_download_contains_the_running_tree(client):
    response = client.get("/source/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        names = tar.getnames()
    assert "icdev/LICENSE" in names
    assert "icdev/accountability/services/oversight.py" in names
    assert not [n for n in names if "/.venv/" in n or n.endswith(".sqlite3")]


@pytest.mark.django_db
def test_load_demo_is_idempotent():
    out = io.StringIO()
    call_command("load_demo", "--json", stdout=out)
    first = json.loads(out.getvalue())
    assert first["created"] is True
    assert {login["username"] for login in first["logins"]} >= {"gov.staff", "caio", "auditor", "appellant"}
    counts = {
        m: m.objects.count()
        for m in (Project, AIUseCase, CAIODesignation, OversightPlanVersion, Membership, LedgerEntry)
    }
    assert counts[Project] == 2
    assert counts[AIUseCase] == 5
    screener = AIUseCase.objects.get(name="Benefits eligibility pre-screener")
    assert (screener.stage, screener.high_impact_determination) == ("deployed", "high")
    plan_versions = OversightPlanVersion.objects.filter(plan__use_case=screener).order_by("version")
    assert list(plan_versions.values_list("status", flat=True)) == ["archived", "active", "draft"]
    assert CAIODesignation.objects.active().get().delegation_chain[1]["delegated_by"] == "l.ortega@agency.example.gov"
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "already present; nothing changed" in out.getvalue()
    assert counts == {m: m.objects.count() for m in counts}


@pytest.mark.django_db
def test_portal_pages(client, staff_user, appellant_user, outsider, project):
    client.force_login(staff_user)
    assert "proj-123" in client.get("/portal/").content.decode()
    page = client.get("/portal/projects/proj-123/")
    assert page.status_code == 200
    assert "No active designation" in page.content.decode()
    client.force_login(outsider)
    assert client.get("/portal/projects/proj-123/").status_code == 404
    client.force_login(appellant_user)
    assert "your own appeals</a> only" in client.get("/portal/projects/proj-123/").content.decode()
    client.logout()
    assert client.get("/portal/").status_code == 302
