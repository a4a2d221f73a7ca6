"""The Celery application. Tasks are autodiscovered from installed apps (``accountability/tasks.py`` and,
later, ``accountability/ledger/tasks.py``) and carry stable names; beat reads its schedule from the
database (django-celery-beat) so staff can edit it in the admin, and ``manage.py sync_schedules`` installs
the defaults of ``accountability/schedules.py`` without overwriting those edits.

The same code runs on the embedded file-system broker (``make run``) and on Redis or RabbitMQ
(``CELERY_BROKER_URL``); settings live in ``icdev/settings.py`` under the ``CELERY_`` prefix."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "icdev.settings")

app = Celery("icdev")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
