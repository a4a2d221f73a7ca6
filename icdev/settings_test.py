"""Test overrides only; everything else comes from icdev.settings."""

import os

os.environ.setdefault("ICDEV_ENV", "test")

from .settings import *  # noqa: F403
from .settings import DATABASES, env

# Tests use SQLite in memory unless DATABASE_URL points elsewhere (CI runs PostgreSQL too).
if not os.environ.get("DATABASE_URL"):
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},
    }
DATABASES["default"]["CONN_MAX_AGE"] = 0

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://localhost/")
SECURE_SSL_REDIRECT = False
DEBUG = False
# Cross-check every ledger payload against the rfc8785 reference encoder (accountability/ledger/canonical.py).
ICDEV_LEDGER_CHECK_JCS = True
