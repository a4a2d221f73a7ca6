"""Framework catalogues: load every ``*.yaml`` of the catalogue directories, validate them (JSON Schema,
then cross-file rules), and expose frameworks, requirements and checks by id or alias.

Adding a framework means adding a file. A bad file fails loudly with the file and the place in it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml
from django.conf import settings

from .catalogue_schema import CATALOGUE_SCHEMA, RULE_TYPES
from .modelspec import CatalogueError, field_at, resolve_model, validate_filter

DEFAULT_DIR = Path(__file__).resolve().parent / "frameworks"
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class CatalogueInvalid(Exception):
    """A catalogue file is malformed or inconsistent; the message names every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("Invalid framework catalogue:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Requirement:
    framework: str
    id: str
    title: str
    citation: dict | None
    obligation: str
    parent: str | None
    children: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"{self.framework}:{self.id}"


@dataclass
class Framework:
    code: str
    key: str
    title: str
    short_title: str
    issuer: str
    version: str
    issued: dt.date
    effective_from: dt.date | None
    effective_until: dt.date | None
    status: str
    applicability: dict
    sources: dict[str, dict]
    requirements: dict[str, Requirement]
    path: str
    note: str = ""
    deadlines: dict = field(default_factory=dict)
    order: int = 100

    @property
    def leaves(self) -> list[Requirement]:
        return [r for r in self.requirements.values() if not r.children]

    def in_force(self, today: dt.date) -> tuple[bool, str]:
        if self.status in ("superseded", "repealed"):
            return False, f"{self.short_title} is {self.status}"
        if self.effective_from and today < self.effective_from:
            return False, f"{self.short_title} takes effect on {self.effective_from.isoformat()}"
        if self.effective_until and today > self.effective_until:
            return False, f"{self.short_title} sunset on {self.effective_until.isoformat()}"
        return True, ""

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "key": self.key,
            "title": self.title,
            "short_title": self.short_title,
            "issuer": self.issuer,
            "version": self.version,
            "issued": self.issued.isoformat(),
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_until": self.effective_until.isoformat() if self.effective_until else None,
            "status": self.status,
            "applicability": self.applicability,
            "sources": list(self.sources.values()),
        }


@dataclass
class Check:
    id: str
    framework: str
    version: int
    aliases: tuple[str, ...]
    title: str
    description: str
    requirements: tuple[str, ...]
    satisfies: tuple[str, ...]
    citation: dict
    severity: str
    projects: str
    effective_from: dt.date | None
    deprecated: bool
    subjects: dict
    rule: dict
    aggregate: dict | None
    remediation: str

    @property
    def credits(self) -> list[str]:
        """Every requirement this check's result credits: its own framework's, then the mapped ones."""
        return [f"{self.framework}:{r}" for r in self.requirements] + list(self.satisfies)

    @property
    def credited_frameworks(self) -> list[str]:
        return list(dict.fromkeys(ref.split(":", 1)[0] for ref in self.credits))


@dataclass
class Catalogue:
    frameworks: dict[str, Framework]
    checks: dict[str, Check]
    aliases: dict[str, str]
    digest: str
    uses_now: bool = False

    def resolve(self, check_id: str) -> Check:
        """A check by id or alias (case-insensitive); KeyError when unknown."""
        key = check_id.strip().upper()
        return self.checks[self.aliases.get(key, key)]

    def active_checks(self) -> list[Check]:
        return [c for c in self.checks.values() if not c.deprecated]

    def select(self, frameworks: list[str] | None = None, check_ids: list[str] | None = None) -> list[Check]:
        """Active checks crediting any of ``frameworks`` and/or named by ``check_ids`` (KeyError if unknown)."""
        chosen = self.active_checks()
        if frameworks:
            codes = {self.framework_code(f) for f in frameworks}
            chosen = [c for c in chosen if codes & set(c.credited_frameworks)]
        if check_ids:
            wanted = {self.resolve(i).id for i in check_ids}
            chosen = [c for c in chosen if c.id in wanted]
        return chosen

    def framework_code(self, name: str) -> str:
        """A framework by code (M2521) or key (omb-m-25-21); KeyError when unknown."""
        for fw in self.frameworks.values():
            if name.strip() in (fw.code, fw.key) or name.strip().upper() == fw.code:
                return fw.code
        raise KeyError(name)

    def requirement(self, ref: str) -> Requirement:
        code, rid = ref.split(":", 1)
        return self.frameworks[code].requirements[rid]


def _plain(value):
    """YAML dates become ISO strings so the JSON Schema sees what the file says."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def read_file(path: Path) -> dict:
    """Parse and schema-validate one catalogue file; CatalogueInvalid names the file and place."""
    try:
        data = _plain(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueInvalid([f"{path.name}: cannot read: {exc}"]) from exc
    validator = jsonschema.Draft202012Validator(
        CATALOGUE_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        problems = []
        for err in errors[:10]:
            where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
            problems.append(f"{path.name}: at {where}: {err.message}")
        raise CatalogueInvalid(problems)
    return data


def _requirements(code: str, items: list[dict], parent: str | None, out: dict, problems: list, where: str) -> None:
    for item in items:
        rid = item["id"]
        if rid in out:
            problems.append(f"{where}: requirement id {rid!r} appears twice")
        children = item.get("children", [])
        out[rid] = Requirement(
            code,
            rid,
            item["title"],
            item.get("citation"),
            item.get("obligation", "must"),
            parent,
            tuple(c["id"] for c in children),
        )
        _requirements(code, children, rid, out, problems, where)


def _framework(data: dict, path: Path, problems: list) -> Framework:
    meta = data["framework"]
    requirements: dict[str, Requirement] = {}
    _requirements(meta["code"], data["requirements"], None, requirements, problems, path.name)
    return Framework(
        code=meta["code"],
        key=meta["key"],
        title=meta["title"],
        short_title=meta["short_title"],
        issuer=meta["issuer"],
        version=meta["version"],
        issued=_date(meta["issued"]),
        effective_from=_date(meta.get("effective_from")),
        effective_until=_date(meta.get("effective_until")),
        status=meta["status"],
        applicability=meta.get("applicability", {"description": "every project"}),
        sources={s["id"]: s for s in meta["sources"]},
        requirements=requirements,
        path=path.name,
        note=meta.get("note", ""),
        deadlines=meta.get("deadlines", {}),
        order=meta.get("order", 100),
    )


def _check(code: str, item: dict) -> Check:
    return Check(
        id=item["id"],
        framework=code,
        version=item["version"],
        aliases=tuple(item.get("aliases", [])),
        title=item["title"],
        description=item.get("description", ""),
        requirements=tuple(item["requirements"]),
        satisfies=tuple(item.get("satisfies", [])),
        citation=item["citation"],
        severity=item["severity"],
        projects=item.get("projects", "framework"),
        effective_from=_date(item.get("effective_from")),
        deprecated=item.get("deprecated", False),
        subjects=item["subjects"],
        rule=item["rule"],
        aggregate=item.get("aggregate"),
        remediation=item["remediation"].strip(),
    )


def build(paths: list[Path]) -> Catalogue:
    """Read, validate and cross-check catalogue files into one Catalogue (CatalogueInvalid otherwise)."""
    from .checks import register_all

    register_all()
    frameworks: dict[str, Framework] = {}
    raw_checks: list[tuple[str, dict, str]] = []
    problems: list[str] = []
    digest = hashlib.sha256()
    uses_now = False
    for path in sorted(paths, key=lambda p: p.name):
        data = read_file(path)
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        uses_now = uses_now or b"$now" in path.read_bytes()
        fw = _framework(data, path, problems)
        if fw.code in frameworks:
            problems.append(f"{path.name}: framework code {fw.code} is already used by {frameworks[fw.code].path}")
        if any(other.key == fw.key for other in frameworks.values()):
            problems.append(f"{path.name}: framework key {fw.key} is already used")
        frameworks[fw.code] = fw
        raw_checks += [(fw.code, item, path.name) for item in data["checks"]]
    checks: dict[str, Check] = {}
    aliases: dict[str, str] = {}
    for code, item, fname in raw_checks:
        check = _check(code, item)
        where = f"{fname}: check {check.id}"
        if check.id in checks:
            problems.append(f"{where}: id already used in {frameworks[checks[check.id].framework].path}")
        if not check.id.startswith(f"{code}-"):
            problems.append(f"{where}: a check id starts with its framework code ({code}-)")
        for alias in check.aliases:
            if alias in aliases:
                problems.append(f"{where}: alias {alias} already belongs to {aliases[alias]}")
            aliases[alias] = check.id
        checks[check.id] = check
    ordered = sorted(frameworks.values(), key=lambda fw: (fw.order, fw.code))
    frameworks = {fw.code: fw for fw in ordered}
    rank = {code: i for i, code in enumerate(frameworks)}
    checks = dict(sorted(checks.items(), key=lambda kv: rank[kv[1].framework]))
    for alias in aliases:
        if alias in checks:
            problems.append(f"alias {alias} collides with a check id")
    for check in checks.values():
        problems += _check_problems(check, frameworks)
    for fw in frameworks.values():
        flt = fw.applicability.get("projects")
        try:
            validate_filter(resolve_model("project"), flt, set(), f"{fw.path}: applicability")
        except CatalogueError as exc:
            problems.append(str(exc))
    if problems:
        raise CatalogueInvalid(problems)
    return Catalogue(frameworks, checks, aliases, digest.hexdigest(), uses_now)


def _check_problems(check: Check, frameworks: dict[str, Framework]) -> list[str]:
    where = f"{frameworks[check.framework].path}: check {check.id}"
    problems = []
    home = frameworks[check.framework]
    for rid in check.requirements:
        if rid not in home.requirements:
            problems.append(f"{where}: requirement {rid!r} is not in {home.short_title}'s requirement tree")
    for ref in check.satisfies:
        code, rid = ref.split(":", 1)
        if code not in frameworks:
            problems.append(f"{where}: satisfies {ref}: no framework {code}")
        elif rid not in frameworks[code].requirements:
            problems.append(f"{where}: satisfies {ref}: no requirement {rid!r} in {frameworks[code].short_title}")
    if check.citation["source"] not in home.sources:
        problems.append(f"{where}: citation source {check.citation['source']!r} is not among the framework's sources")
    try:
        subject_model = resolve_model(check.subjects["model"])
        validate_filter(subject_model, check.subjects.get("filter"), set(), f"{where}.subjects")
        _validate_rule(check.rule, subject_model, f"{where}.rule")
        if check.aggregate and not check.aggregate.get("pass_ratio"):
            problems.append(f"{where}: aggregate needs pass_ratio")
    except CatalogueError as exc:
        problems.append(str(exc) if str(exc).startswith(where) else f"{where}: {exc}")
    return problems


def _param_names(rule: dict) -> set[str]:
    names = {k for k, v in rule.items() if isinstance(v, dict) and "provenance" in v}
    return names | set(rule.get("params", {}))


def _validate_rule(rule: dict, subject_model, where: str) -> None:
    from .checks import base

    kind = rule["type"]
    if kind not in RULE_TYPES:
        raise CatalogueError(f"{where}: unknown rule type {kind!r}")
    params = _param_names(rule)
    for name in params:
        spec = rule.get(name) if isinstance(rule.get(name), dict) else rule["params"][name]
        if "policy" in spec:
            _check_policy_key(spec["policy"], f"{where}.{name}")
    if kind in ("all_of", "any_of"):
        for i, sub in enumerate(rule["rules"]):
            _validate_rule(sub, subject_model, f"{where}.rules[{i}]")
        return
    if kind == "deadline":
        _validate_rule(rule["rule"], subject_model, f"{where}.rule")
        return
    if kind == "python":
        ev = base.EVALUATORS.get(rule["evaluator"])
        if ev is None:
            raise CatalogueError(f"{where}: no registered evaluator {rule['evaluator']!r}")
        missing = [p for p in ev.params if p not in rule.get("params", {})]
        if missing:
            raise CatalogueError(f"{where}: evaluator {ev.name} needs parameters {', '.join(missing)}")
        if ev.subject_models and subject_model._meta.label not in ev.subject_models:
            raise CatalogueError(f"{where}: evaluator {ev.name} judges {', '.join(ev.subject_models)} subjects")
        return
    via = rule.get("via")
    if via and via not in ("pk", "project"):
        field_at(subject_model, via)
    model = resolve_model(rule["model"]) if "model" in rule else subject_model
    if "link" in rule:
        target = field_at(model, rule["link"])
        expected = subject_model if via in (None, "pk") else field_at(subject_model, via).related_model
        if via == "project":
            expected = resolve_model("project")
        if not target.is_relation or target.related_model is not expected:
            raise CatalogueError(f"{where}: link {rule['link']!r} of {model._meta.label} does not point at the subject")
    validate_filter(model, rule.get("filter"), params, f"{where}.filter")
    if kind == "match":
        from .modelspec import has_join

        if has_join(model, rule["filter"]):
            raise CatalogueError(f"{where}: a match filter cannot cross a to-many relation (use exists)")
    if kind == "ratio":
        validate_filter(model, rule["good"], params, f"{where}.good")
    if kind == "completeness":
        validate_filter(model, {"$complete": rule["fields"]}, params, f"{where}.fields")
    for key in ("date_field", "age_from"):
        if key in rule:
            field_at(model, rule[key])


def _check_policy_key(dotted: str, where: str) -> None:
    from accountability.config import policy

    value = policy()
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise CatalogueError(f"{where}: no policy setting {dotted!r} in the governance policy file")
        value = value[part]


def catalogue_dirs() -> list[Path]:
    return [Path(d) for d in getattr(settings, "ICDEV_FRAMEWORK_DIRS", [DEFAULT_DIR])]


@functools.cache
def _cached(dirs: tuple[Path, ...]) -> Catalogue:
    paths = [p for d in dirs for p in sorted(d.glob("*.yaml"))]
    if not paths:
        raise CatalogueInvalid([f"no *.yaml catalogue in {', '.join(str(d) for d in dirs)}"])
    return build(paths)


def get_catalogue() -> Catalogue:
    """The catalogue of the configured directories (settings.ICDEV_FRAMEWORK_DIRS), loaded once."""
    return _cached(tuple(catalogue_dirs()))


def clear_cache() -> None:
    _cached.cache_clear()
