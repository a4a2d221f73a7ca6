"""Django admin, the main UI of governance staff: every write goes through a service."""

from . import appeals, ethics, notifications, registry, workflow  # noqa: F401 - registers the ModelAdmins
