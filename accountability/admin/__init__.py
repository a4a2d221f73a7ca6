"""Django admin, the main UI of governance staff: every write goes through a service."""

from . import (  # noqa: F401 - registers the ModelAdmins
    appeals,
    corrective_actions,
    ethics,
    evidence,
    evidence_impact,
    evidence_tracing,
    incidents,
    notifications,
    reassessments,
    registry,
    webhooks,
    workflow,
)
