"""The governance policy file, loaded once and validated against ``CONFIG_SCHEMA``."""

from __future__ import annotations

import functools
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from accountability.config_schema import CONFIG_SCHEMA


def load_policy(path: Path | str) -> dict:
    """Read and validate a policy file; ImproperlyConfigured names the first problem."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ImproperlyConfigured(f"Cannot read the governance policy {path}: {exc}") from exc
    errors = sorted(jsonschema.Draft202012Validator(CONFIG_SCHEMA).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(top level)"
        raise ImproperlyConfigured(f"Invalid governance policy {path} at {where}: {errors[0].message}")
    problems = _policy_problems(data)
    if problems:
        raise ImproperlyConfigured(f"Invalid governance policy {path}: {problems[0]}")
    return data


def _policy_problems(data: dict) -> list[str]:
    """Checks the JSON Schema cannot express: a known time zone, existing defaults, coherent rubrics."""
    from accountability.rules.rubrics import rubric_errors  # the rules read the policy: import late

    problems = []
    try:
        ZoneInfo(data["calendar"]["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"calendar/timezone: unknown time zone {data['calendar']['timezone']!r}.")
    ethics = data["ethics"]
    if ethics["default_quorum"] not in ethics["quorum_rules"]:
        problems.append(f"ethics/default_quorum: no quorum rule {ethics['default_quorum']!r}.")
    keys = [(r["key"], r["version"]) for r in ethics["rubrics"]]
    if len(set(keys)) != len(keys):
        problems.append("ethics/rubrics: a rubric key and version appear twice.")
    if ethics["default_rubric"] not in {key for key, _ in keys}:
        problems.append(f"ethics/default_rubric: no rubric {ethics['default_rubric']!r}.")
    for rubric in ethics["rubrics"]:
        problems += [f"ethics/rubrics: {msg}" for msg in rubric_errors(rubric)]
    return problems


@functools.cache
def policy() -> dict:
    """The active governance policy (settings.ICDEV_ACCOUNTABILITY_CONFIG)."""
    return load_policy(settings.ICDEV_ACCOUNTABILITY_CONFIG)
