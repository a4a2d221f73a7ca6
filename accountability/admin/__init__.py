"""Django admin, the main UI of governance staff: every write goes through a service."""

from . import corrective_actions, incidents, notifications, reassessments, registry, webhooks  # noqa: F401 - registers the ModelAdmins
