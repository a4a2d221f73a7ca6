"""Settings for icdev, read from the environment (django-environ).

ICDEV_ENV selects safe defaults: ``production`` (the default: DEBUG off, a secret key and hosts are
required, secure cookies and HSTS), ``development`` (make run) or ``test`` (settings_test).
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

ICDEV_ENV = env.str("ICDEV_ENV", default="production")
if ICDEV_ENV not in {"production", "development", "test"}:
    raise ImproperlyConfigured(f"ICDEV_ENV must be production, development or test, not {ICDEV_ENV!r}")
IS_PRODUCTION = ICDEV_ENV == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=ICDEV_ENV == "development")

_DEV_SECRET = "insecure-development-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="" if IS_PRODUCTION else _DEV_SECRET)
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when ICDEV_ENV=production")

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    # viewflow (AGPL-3.0) drives the appeal and ethics-review processes. Listed before accountability so
    # that our admin can replace viewflow's unscoped Process/Task admin.
    "viewflow",
    "viewflow.workflow",
    # assessors before accountability: its load_demo (accountability's loader, then an audit of the demo
    # projects) takes precedence, while accountability never imports assessors.
    "assessors",
    "accountability",
    "accountability.ledger",
    "icdev",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "icdev.source.SourceLinkMiddleware",
]

ROOT_URLCONF = "icdev.urls"
WSGI_APPLICATION = "icdev.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "icdev.source.source_context",
                "icdev.context.notifications_context",
            ],
        },
    },
]

# Databases: SQLite under var/ by default (make run); DATABASE_URL for PostgreSQL.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'icdev.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, worker and beat share the file; IMMEDIATE takes the write lock at
    # BEGIN so concurrent writers wait (timeout) instead of failing on a lock upgrade. The WAL is
    # checkpointed every 10,000 pages instead of SQLite's 1,000: each checkpoint costs two fsyncs,
    # which at 1,000 pages were about a tenth of a ledger append (README, "SQLite appends, third
    # round"); the WAL then reaches about 41 MB, and journal_size_limit truncates it back to 64 MiB
    # after a checkpoint if a long reader ever let it grow past that.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA wal_autocheckpoint=10000; PRAGMA journal_size_limit=67108864;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("ICDEV_TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static"))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"

# E-mail: SMTP from EMAIL_URL in production; in development, files under var/mail (readable, quiet).
if env.str("EMAIL_URL", default="") or IS_PRODUCTION:
    vars().update(env.email_url("EMAIL_URL", default="smtp://localhost:25"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="icdev@localhost")

# Security: secure by default in production; check --deploy must stay clean.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", default=False) else None
)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=IS_PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=IS_PRODUCTION)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=IS_PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=IS_PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "accountability.api.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "accountability.api.errors.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "icdev AI accountability API",
    "DESCRIPTION": (
        "Governance registry, workflows and ledger of the icdev portal. icdev is free software under "
        "AGPL-3.0-or-later; the running source is offered at /source/."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "LICENSE": {"name": "AGPL-3.0-or-later", "url": "/source/"},
    "COMPONENT_SPLIT_REQUEST": True,
    # Distinct names for choice sets that share a field name across models.
    "ENUM_NAME_OVERRIDES": {
        "MembershipRoleEnum": "accountability.models.registry.Membership.Role",
        "StakeholderRoleEnum": "accountability.models.registry.Stakeholder.Role",
        "AuthorityScopeEnum": "accountability.models.registry.CAIODesignation.Scope",
        "HighImpactDeterminationEnum": "accountability.models.registry.AIUseCase.HighImpact",
        "PlanVersionStatusEnum": "accountability.models.registry.OversightPlanVersion.Status",
        "ObligationStatusEnum": "accountability.models.registry.ContractualObligation.Status",
        "CAIOStatusEnum": "accountability.models.registry.CAIODesignation.Status",
        "AppealStatusEnum": "accountability.models.appeals.Appeal.Status",
        "EthicsReviewStatusEnum": "accountability.models.ethics.EthicsReview.Status",
        "WorkflowTaskStatusEnum": "viewflow.workflow.status.STATUS",
        "EthicsVersionOutcomeEnum": "accountability.models.ethics.EthicsReviewVersion.Outcome",
        "EthicsDecisionEnum": "accountability.models.ethics.Decision",
        "UseCaseStageEnum": "accountability.models.registry.AIUseCase.Stage",
        "ModelCardStatusEnum": "accountability.models.evidence.ModelCard.Status",
        "EvidenceStatusEnum": "accountability.models.evidence.EvidenceStatus",
        "TracingPolicyStatusEnum": "accountability.models.evidence_tracing.ContentTracingPolicy.Status",
        "MonitoringPlanStatusEnum": "accountability.models.evidence_tracing.MonitoringPlan.Status",
        "ImpactAssessmentStatusEnum": "accountability.models.evidence_impact.ImpactAssessment.Status",
        "ReviewRecommendationEnum": "accountability.models.evidence_impact.ImpactAssessment.Recommendation",
        "FeedbackItemStatusEnum": "accountability.models.evidence_people.FeedbackItem.Status",
        "IncidentStatusEnum": "accountability.models.incidents.Incident.Status",
        "CorrectiveActionStatusEnum": "accountability.models.incidents.CorrectiveAction.Status",
        "ReassessmentStatusEnum": "accountability.models.reassessments.ReassessmentSchedule.Status",
        "EntryTypeEnum": ["action", "decision", "interaction"],  # what the ledger API accepts from AI writers
        "LedgerEntryTypeEnum": "accountability.ledger.schema.EntryType",
        "LedgerEntryStatusEnum": ["integrated", "pending"],
        "EUNotifiedPartyEnum": "accountability.api.incident_serializers.EU_NOTIFIED_PARTIES",
        "BoardMemberPartyEnum": "accountability.models.ethics.BoardMember.Party",
    },
}

# Celery: an embedded file-system broker by default (no server needed); Redis or RabbitMQ via URL.
# The transport ignores the host; naming one keeps kombu from warning "No hostname was supplied" on
# every connection.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for sub in ("queue", "processed"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat's defaults are installed by `manage.py sync_schedules` (accountability/schedules.py), never from
# settings: django-celery-beat would overwrite the schedules staff edited in the admin at every start.
CELERY_BEAT_SCHEDULE = {}

# Outgoing webhooks: plain-http endpoints only outside production (their secrets' keys: below the ledger's).
ICDEV_WEBHOOK_ALLOW_HTTP = env.bool("ICDEV_WEBHOOK_ALLOW_HTTP", default=not IS_PRODUCTION)
CELERY_TIMEZONE = TIME_ZONE

# One-project audits prepare their queries once per database session (assessors/prepared.py). Turn this
# off behind a connection pooler in transaction mode, where consecutive transactions get other sessions.
ICDEV_AUDIT_PREPARED_STATEMENTS = env.bool("ICDEV_AUDIT_PREPARED_STATEMENTS", default=True)

# AGPL-3.0 §13: every page and API response offers the corresponding source of the running version.
ICDEV_SOURCE_URL = env.str("ICDEV_SOURCE_URL", default="/source/")
ICDEV_SOURCE_COMMIT = env.str("ICDEV_SOURCE_COMMIT", default="")

# Governance policy (portal defaults, not framework text): oversight-plan templates, CAIO scope
# rules, SLAs, rubrics, thresholds.
ICDEV_ACCOUNTABILITY_CONFIG = env.path(
    "ICDEV_ACCOUNTABILITY_CONFIG", default=BASE_DIR / "icdev" / "config" / "ai_accountability_config.yaml"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("ICDEV_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
SIMPLE_HISTORY_REVERT_DISABLED = True  # a revert would bypass the services and the ledger
# We do not mount viewflow's own frontend (its inbox and queue use global Django permissions, not our
# project roles), so viewflow must not append its SiteMiddleware and Turbo middleware.
VIEWFLOW = {"AUTOREGISTER": False}

# AI accountability ledger (accountability/ledger, README "Ledger"). Secrets come from the environment
# only; the development and test fallbacks derive keys from SECRET_KEY and are refused in production.
# ICDEV_LEDGER_SIGNING_KEYS: Ed25519 checkpoint keys in signed-note format (PRIVATE+KEY+…), comma
#   separated; all of them sign (overlap during a rotation), the first one is the log's current key.
# ICDEV_LEDGER_TRUSTED_VKEYS: public keys of retired signing keys, still trusted for old checkpoints.
# ICDEV_LEDGER_PII_KEYS: HMAC keys for personal data, "kid:base64,kid:base64"; the first one tokenises
#   new entries, the others still match lookups until they are destroyed (removed).
# ICDEV_LEDGER_MODE: auto (PostgreSQL queues appends for the integrator, SQLite appends inline),
#   queue or inline.
ICDEV_LEDGER_ORIGIN = env.str("ICDEV_LEDGER_ORIGIN", default="icdev.local/ai-ledger/v1")
ICDEV_LEDGER_SIGNING_KEYS = env.list("ICDEV_LEDGER_SIGNING_KEYS", default=[])
ICDEV_LEDGER_TRUSTED_VKEYS = env.list("ICDEV_LEDGER_TRUSTED_VKEYS", default=[])
ICDEV_LEDGER_PII_KEYS = env.list("ICDEV_LEDGER_PII_KEYS", default=[])
ICDEV_LEDGER_MODE = env.str("ICDEV_LEDGER_MODE", default="auto")
ICDEV_LEDGER_CHECKPOINT_INTERVAL = env.float("ICDEV_LEDGER_CHECKPOINT_INTERVAL", default=0.25)
ICDEV_LEDGER_INTEGRATE_BATCH = env.int("ICDEV_LEDGER_INTEGRATE_BATCH", default=5000)
ICDEV_LEDGER_INTEGRATE_INTERVAL = env.float("ICDEV_LEDGER_INTEGRATE_INTERVAL", default=0.1)
# PostgreSQL: prepare the append's statements once per connection (False behind a transaction-pooling
# proxy that cannot keep prepared statements, e.g. PgBouncer before 1.21).
ICDEV_LEDGER_PREPARED_STATEMENTS = env.bool("ICDEV_LEDGER_PREPARED_STATEMENTS", default=True)
# PostgreSQL: the Unix socket of `manage.py ledger_intake` (group commit for appends on their own);
# empty: each append commits its own statement. A writer that finds no intake there does the same.
ICDEV_LEDGER_INTAKE_SOCKET = env.str("ICDEV_LEDGER_INTAKE_SOCKET", default="")
# Seconds a writer waits for the intake's answer before reporting the entry's outcome as unknown.
ICDEV_LEDGER_INTAKE_TIMEOUT = env.float("ICDEV_LEDGER_INTAKE_TIMEOUT", default=10.0)
# Extra payload keys whose values identify a person (tokenised like e-mail addresses); comma separated.
ICDEV_LEDGER_PII_FIELDS = env.list("ICDEV_LEDGER_PII_FIELDS", default=[])

# Webhook signing secrets are encrypted at rest (accountability/webhook_keys.py), so a database backup,
# replica or DBA cannot forge deliveries. Like the ledger's keys, from the environment only; the
# development and test fallback derives a key from SECRET_KEY and is refused in production.
# ICDEV_WEBHOOK_SECRET_KEYS: Fernet keys, comma separated; the first one encrypts, all of them decrypt.
#   Rotate by putting a new key first, running `manage.py rotate_webhook_keys`, then removing the old
#   one. Production: check --deploy reports webhooks.E001 when unset.
ICDEV_WEBHOOK_SECRET_KEYS = env.list("ICDEV_WEBHOOK_SECRET_KEYS", default=[])
