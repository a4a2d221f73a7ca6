"""The governance policy file, loaded once and validated against ``CONFIG_SCHEMA``."""

from __future__ import annotations

import functools
from pathlib import Path

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
    return data


@functools.cache
def policy() -> dict:
    """The active governance policy (settings.ICDEV_ACCOUNTABILITY_CONFIG)."""
    return load_policy(settings.ICDEV_ACCOUNTABILITY_CONFIG)
