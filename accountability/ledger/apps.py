"""App config: the ledger keeps its own tables and migrations (label ``ledger``)."""

from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "accountability.ledger"
    label = "ledger"
    verbose_name = "AI accountability ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import intake, keys  # noqa: F401 - registers the key and intake checks
