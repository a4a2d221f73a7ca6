"""Django admin, the main UI of governance staff: every write goes through a service."""

from . import notifications, registry  # noqa: F401 - registers the ModelAdmins
