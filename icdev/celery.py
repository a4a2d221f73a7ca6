"""The Celery application: tasks are autodiscovered from installed apps; beat reads its schedule
from the database (django-celery-beat) so staff can edit it in the admin."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "icdev.settings")

app = Celery("icdev")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
