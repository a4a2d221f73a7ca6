"""The framework catalogues: the seed's 14 aliases and their real sources, provenance on every threshold,
schema and cross-file validation (a bad file is rejected with a clear message, in CI too), and adding a
framework by adding a file."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from assessors.catalogue import DEFAULT_DIR, CatalogueInvalid, build, clear_cache, get_catalogue
from assessors.services import audit_evaluate
from tests.factories import CAIODesignationFactory

from .helpers import SYSTEM

ALIASES = {
    "M25-001": "M2521-INV-01",
    "M25-002": "M2521-GOV-01",
    "M25-003": "M2521-OVS-01",
    "M25-004": "M2521-HIA-01",
    "M26-001": "M2604-VND-01",
    "M26-002": "M2521-IA-02",
    "M26-003": "AI6001-INC-01",
    "AI600-001": "AI6001-CNF-01",
    "AI600-002": "AI6001-FAI-01",
    "AI600-003": "AI6001-PRV-01",
    "AI600-004": "AI6001-PRV-02",
    "GAO-001": "GAO-GOV-01",
    "GAO-002": "GAO-MON-01",
    "GAO-003": "M2521-APL-01",
}
FILES = sorted(DEFAULT_DIR.glob("*.yaml"))


def test_the_seeds_14_check_ids_are_aliases_that_resolve():
    catalogue = get_catalogue()
    assert catalogue.aliases == ALIASES
    assert {alias: catalogue.resolve(alias.lower()).id for alias in ALIASES} == ALIASES


@pytest.mark.parametrize(
    ("alias", "framework", "ref"),
    [
        # frameworks.md §8: M26-002 and M26-003 are not M-26-04 duties; GAO has no appeals practice.
        ("M26-002", "M2521", "App. §4(b)(ii)(D); §5 'significant modification'"),
        ("M26-003", "AI6001", "GV-4.3-002, MG-4.3-001; AI RMF MANAGE 4.3"),
        ("GAO-003", "M2521", "App. §4(b)(vi)"),
        ("M26-001", "M2604", "solicitation minimums"),
        ("M25-003", "M2521", "App. §4(b)(v)"),
    ],
)
def test_re_homed_aliases_cite_the_right_source(alias, framework, ref):
    check = get_catalogue().resolve(alias)
    assert (check.framework, check.citation["ref"]) == (framework, ref)


def test_the_frameworks_their_dates_and_m26_04s_sunset():
    frameworks = get_catalogue().frameworks
    assert list(frameworks) == ["M2521", "M2604", "AI6001", "GAO"]
    m2604 = frameworks["M2604"]
    assert (m2604.issued.isoformat(), m2604.effective_until.isoformat()) == ("2025-12-11", "2027-12-11")
    assert frameworks["M2521"].issued.isoformat() == "2025-04-03"


def _params(rule: dict):
    for key, value in rule.items():
        if isinstance(value, dict) and ("value" in value or "policy" in value):
            yield key, value
    for name, value in rule.get("params", {}).items():
        yield name, value
    for sub in rule.get("rules", []) + ([rule["rule"]] if "rule" in rule else []):
        yield from _params(sub)


def test_every_threshold_states_its_provenance():
    seen = 0
    for check in get_catalogue().checks.values():
        for name, spec in [*_params(check.rule), *(check.aggregate or {}).items()]:
            if isinstance(spec, dict):
                assert spec["provenance"] in ("F", "D"), (check.id, name)
                seen += 1
    assert seen >= 40


def test_every_check_has_a_remediation_a_severity_and_credits_its_own_framework():
    for check in get_catalogue().checks.values():
        assert check.remediation
        assert check.severity in ("critical", "high", "medium", "low")
        assert check.credits[0].startswith(f"{check.framework}:")


# --- bad files are rejected loudly ---------------------------------------------------------------------------


def _write(tmp_path: Path, mutate, name="omb-m-25-21.yaml") -> list[Path]:
    """Copy the catalogues to tmp_path, applying ``mutate`` to the parsed ``name`` file."""
    paths = []
    for src in FILES:
        dst = tmp_path / src.name
        if src.name == name:
            data = yaml.safe_load(src.read_text())
            mutate(data)
            dst.write_text(yaml.safe_dump(data, sort_keys=False))
        else:
            dst.write_text(src.read_text())
        paths.append(dst)
    return paths


def _check(data, check_id):
    return next(c for c in data["checks"] if c["id"] == check_id)


BAD = [
    (
        lambda d: _check(d, "M2521-GOV-01")["rule"]["rules"][1]["max_age"].pop("provenance"),
        "omb-m-25-21.yaml: at checks/0/rule/rules/1/max_age: 'provenance' is a required property",
    ),
    (
        lambda d: _check(d, "M2521-HIA-01").update(rule={"type": "regex", "filter": {}}),
        "at checks/3/rule/type: 'regex' is not one of",
    ),
    (
        lambda d: _check(d, "M2521-TRN-01")["rule"].update(model="accountability.Nope"),
        "check M2521-TRN-01: unknown model 'accountability.Nope'",
    ),
    (
        lambda d: _check(d, "M2521-TRN-01")["rule"]["filter"].update(expires_after=1),
        "check M2521-TRN-01.rule.filter: accountability.OperatorTraining has no field 'expires_after'",
    ),
    (
        lambda d: _check(d, "M2521-TRN-01")["rule"]["filter"].update(expires_on__gte="$param.nope"),
        "unknown value '$param.nope' (use $today, $now or $param.<a parameter>)",
    ),
    (
        lambda d: _check(d, "M2521-WVR-01")["rule"].update(evaluator="nope"),
        "check M2521-WVR-01.rule: no registered evaluator 'nope'",
    ),
    (
        lambda d: _check(d, "M2521-WVR-01")["rule"]["params"].pop("omb_report_days"),
        "check M2521-WVR-01.rule: evaluator waiver_validity needs parameters omb_report_days",
    ),
    (
        lambda d: _check(d, "M2521-INV-01").update(aliases=["M25-002"]),
        "check M2521-INV-01: alias M25-002 already belongs to M2521-GOV-01",
    ),
    (
        lambda d: _check(d, "M2521-INV-01").update(id="M2521-GOV-01"),
        "check M2521-GOV-01: id already used in omb-m-25-21.yaml",
    ),
    (
        lambda d: _check(d, "M2521-INV-01").update(requirements=["9(z)"]),
        "check M2521-INV-01: requirement '9(z)' is not in OMB M-25-21's requirement tree",
    ),
    (
        lambda d: _check(d, "M2521-INV-01").update(satisfies=["GAO:9.9"]),
        "check M2521-INV-01: satisfies GAO:9.9: no requirement '9.9' in GAO-21-519SP",
    ),
    (
        lambda d: _check(d, "M2521-GOV-01")["rule"]["rules"][1]["max_age"].update(policy="caio.nope"),
        "no policy setting 'caio.nope' in the governance policy file",
    ),
    (
        lambda d: _check(d, "M2521-OVS-01")["rule"]["rules"][0].update(link="plan__project"),
        "link 'plan__project' of accountability.OversightPlanVersion does not point at the subject",
    ),
    (
        lambda d: d["checks"].append({**_check(d, "M2521-INV-01"), "id": "GAO-INV-09", "aliases": []}),
        "check GAO-INV-09: a check id starts with its framework code (M2521-)",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), BAD)
def test_a_bad_catalogue_is_rejected_with_a_clear_message(tmp_path, mutate, message):
    with pytest.raises(CatalogueInvalid) as exc:
        build(_write(tmp_path, mutate))
    assert message in str(exc.value)


def test_a_check_id_used_in_two_files_is_rejected(tmp_path):
    paths = _write(tmp_path, lambda d: _check(d, "GAO-PRF-01").update(id="GAO-MON-01", aliases=[]), "gao-21-519sp.yaml")
    with pytest.raises(CatalogueInvalid, match=r"check GAO-MON-01: id already used in gao-21-519sp\.yaml"):
        build(paths)


def test_unreadable_yaml_is_rejected(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: 1\nframework: [unclosed\n")
    with pytest.raises(CatalogueInvalid, match=r"broken\.yaml: cannot read"):
        build([broken])


def test_check_frameworks_reports_a_valid_catalogue():
    out = StringIO()
    call_command("check_frameworks", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "4 catalogue file(s) valid: 29 checks, 14 aliases."
    assert lines[1] == "  M2521   v2026.1: 23 requirements, 15 checks"


def test_check_frameworks_fails_on_a_bad_file(tmp_path):
    _write(tmp_path, lambda d: _check(d, "M2521-WVR-01")["rule"].update(evaluator="nope"))
    with pytest.raises(CommandError) as exc:
        call_command("check_frameworks", "--dir", str(tmp_path))
    assert exc.value.returncode == 1
    assert "check M2521-WVR-01.rule: no registered evaluator 'nope'" in str(exc.value)


def test_check_frameworks_exits_1_on_stderr_as_ci_sees_it(tmp_path):
    _write(tmp_path, lambda d: _check(d, "M2521-TRN-01")["rule"].update(model="accountability.Nope"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    proc = subprocess.run(  # noqa: S603 - a fixed argv, no shell
        [sys.executable, "manage.py", "check_frameworks", "--dir", str(tmp_path)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "DJANGO_SETTINGS_MODULE": "icdev.settings_test"},
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.startswith("CommandError: Invalid framework catalogue:")
    assert "check M2521-TRN-01: unknown model 'accountability.Nope'" in proc.stderr


# --- adding a framework means adding a file ----------------------------------------------------------------

EXTRA = """
format: 1
framework:
  code: ACME
  key: acme-ai-policy
  title: ACME internal AI policy
  short_title: ACME AI policy
  issuer: ACME governance office
  version: "1"
  issued: 2026-01-01
  status: in_force
  sources: [{id: policy, kind: primary, title: ACME AI policy v1}]
requirements:
  - {id: R1, title: An accountable official, citation: {source: policy, ref: "§1", verified: primary}}
  - {id: R2, title: A register of AI systems}
checks:
  - id: ACME-GOV-01
    version: 1
    aliases: [ACME-001]
    title: Accountable official designated
    requirements: [R1]
    satisfies: ["GAO:1.2"]
    citation: {source: policy, ref: "§1", verified: primary}
    severity: high
    subjects: {model: project, label: projects}
    rule:
      type: exists
      model: accountability.CAIODesignation
      link: project
      label: designation in force
      filter: {revoked_at__isnull: true, effective_date__lte: $today}
    remediation: Designate an accountable official.
"""


@pytest.mark.django_db
def test_a_new_catalogue_file_adds_a_framework(tmp_path, project):
    (tmp_path / "acme-ai-policy.yaml").write_text(EXTRA)
    settings.ICDEV_FRAMEWORK_DIRS = [DEFAULT_DIR, tmp_path]
    clear_cache()
    try:
        CAIODesignationFactory(project=project)
        report = audit_evaluate(actor=SYSTEM, project=project)
        acme = next(r for r in report.results if r.check.id == "ACME-GOV-01")
        assert acme.status == "pass"
        assert get_catalogue().resolve("ACME-001") is acme.check
        coverage = next(fw for fw in report.coverage if fw["framework"] == "ACME")
        assert (coverage["requirements"]["satisfied"], coverage["requirements"]["not_assessed"]) == (1, 1)
        gao_12 = next(
            r
            for fw in report.coverage
            if fw["framework"] == "GAO"
            for r in fw["requirement_status"]
            if r["id"] == "1.2"
        )
        assert "ACME-GOV-01" in gao_12["checks"]
    finally:
        del settings.ICDEV_FRAMEWORK_DIRS
        clear_cache()
