"""App config for the governance domain."""

from django.apps import AppConfig


class AccountabilityConfig(AppConfig):
    name = "accountability"
    verbose_name = "AI accountability"
    default_auto_field = "django.db.models.BigAutoField"
