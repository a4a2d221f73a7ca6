"""icdev: the Django project package of the AI accountability governance portal."""

from .celery import app as celery_app

__all__ = ("celery_app",)
