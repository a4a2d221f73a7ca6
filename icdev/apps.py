"""The project package is also an app so that its templates, commands and checks load."""

from django.apps import AppConfig


class IcdevConfig(AppConfig):
    name = "icdev"
    verbose_name = "icdev portal"
