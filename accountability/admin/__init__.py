"""Django admin, the main UI of governance staff: every write goes through a service."""

from . import (  # noqa: F401 - registers the ModelAdmins
    appeals,
    ethics,
    evidence,
    evidence_impact,
    evidence_tracing,
    notifications,
    registry,
    workflow,
)
