"""Rule types and named evaluators, registered when this package is imported."""

from __future__ import annotations


def register_all() -> None:
    """Import every module that registers rule types or evaluators (idempotent)."""
    from . import evidence_checks, generic, registry_checks  # noqa: F401
