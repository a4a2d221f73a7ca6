"""App config for the assessors."""

from django.apps import AppConfig


class AssessorsConfig(AppConfig):
    name = "assessors"
    verbose_name = "Framework assessors"
    default_auto_field = "django.db.models.BigAutoField"
