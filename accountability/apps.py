"""App config for the governance domain."""

from django.apps import AppConfig


class AccountabilityConfig(AppConfig):
    name = "accountability"
    verbose_name = "AI accountability"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Register the Celery tasks in every process (web, commands, worker), so services can enqueue
        # follow-up work by its stable task name without importing the task module.
        from . import tasks  # noqa: F401
