"""Settings for every environment, read from the process environment.

Defaults give a working trial install: SQLite under var/, no Redis, the built-in Qoyod sandbox.
Production sets DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY, FIELD_ENCRYPTION_KEYS and
DJANGO_ALLOWED_HOSTS; a missing secret in production fails loudly instead of falling back.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.observability import logging_config, sentry_init

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Without a secret key this is a trial install, so debug defaults on; setting the key for
# production turns it off unless DJANGO_DEBUG says otherwise.
DEBUG = env.bool("DJANGO_DEBUG", default=not env.str("DJANGO_SECRET_KEY", default=""))
# The default key and encryption key exist only so `make run` works with zero setup; they are
# refused when DEBUG is off (see the checks at the end of this module).
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghij"
_DEV_FIELD_KEY = "Zm9yLWRldmVsb3BtZW50LW9ubHktbm90LXNlY3JldCE="
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "audit",
    "garage",
    "invoicing",
    "payments",
    "qoyod_sync",
    "accounting",
    "api",
    "config.apps.AxesConfig",
]

MIDDLEWARE = [
    # First, so every response (redirects to https included) and every log line has the id.
    "config.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "config.sessions.SessionIdleRefreshMiddleware",
    # Last, so it turns the login view's answer into the lockout page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # runserver serves static files in debug; production serves them from the app itself.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.navigation",
                "config.context_processors.qoyod_key_banner",
            ],
            # Tag libraries that live beside the code they draw rather than in a templatetags
            # package: the read-back package keeps its tags with its views.
            "libraries": {"qoyod_refresh": "qoyod_sync.readback.tags"},
            # Quantities, amounts and left-to-right values look the same on every page.
            "builtins": ["core.templatetags.display"],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'garage.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server, the sandbox and background threads share the
    # file without "database is locked" on the first concurrent write.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL's default random_page_cost (4) prices reading a row through an index like a seek on
# a spinning disk. On SSD storage 1.1 is the usual setting; with 4 the planner reads every job to
# join the few of a searched customer (bench/scale.py, 100,000 invoices: 111 ms instead of 6).
# Set on each new connection (core.database); empty keeps the server's own.
DATABASE_RANDOM_PAGE_COST = env.str("DATABASE_RANDOM_PAGE_COST", default="1.1")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out user or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "core.auth.PermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Reverse proxies in front of the app that each append to X-Forwarded-For, the outermost one
# terminating TLS and setting X-Forwarded-Proto (deploy/Caddyfile). 0 (the default) trusts
# neither header, since any client can send them itself.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Every script and stylesheet is a static file of this origin: no inline <script>, on*= or
# hx-on attribute, <style> or style="" attribute (base.html switches off htmx's indicator <style>,
# its eval and its copying of style attributes). data: images are Bootstrap's SVG icons.
# Enforced in development too, so a violation shows long before production; django-csp leaves
# DEBUG's error pages, which are inline-styled, without the header.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features the app never uses, refused for it and anything it could be made to embed.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Login lockout (django-axes): a username, or an address, with this many failures within the
# cool-off is refused until the cool-off after its last failure has passed.
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Too Many Requests: the lockout page (config.security.lockout_response) answers with it.
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = True
# Attempts while locked out are not counted, so the time the lockout page names stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
# Otherwise every manage.py command starts with an axes banner.
AXES_VERBOSE = False

# Sessions end after this long without a request. config.sessions pushes the expiry forward at
# most every SESSION_REFRESH_SECONDS, so reading pages does not write the session on every GET.
SESSION_ENGINE = "config.sessions"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_IDLE_MINUTES", default=8 * 60) * 60
SESSION_REFRESH_SECONDS = env.int("DJANGO_SESSION_REFRESH_MINUTES", default=5) * 60
# For shared counter computers: the browser forgets the session when it closes.
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Asia/Riyadh")
USE_I18N = True
USE_TZ = True
# Dates read day/month/year in both languages, on lists, details and history alike.
FORMAT_MODULE_PATH = ["config.formats"]
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Empty (as .env.example leaves them) means the default, not the current directory: WhiteNoise
# would serve the whole checkout as static files.
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default="") or VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default="") or VAR_DIR / "media")
MEDIA_URL = "media/"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="garage@localhost")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))

# The finance API (api/): bearer tokens of API clients only, scopes per view, a per-client
# request budget in the cache, cursor pages and one error shape (api/exceptions.py).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiClientThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ApiCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "DATE_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Garage finance API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "For finance systems: drain the unprocessed-invoice queue, read each invoice, mark "
        "it processed (with your reference) or failed, and report sales and payments back. "
        "Send `Authorization: Bearer gms_…`, and an `Idempotency-Key` with every POST you may "
        "retry; "
        "amounts are decimal strings with two places, dates ISO 8601, errors "
        '`{"type", "code", "detail", "errors": {field: [messages]}}` in the language of '
        "Accept-Language (en, ar).\n\n"
        "**Customer master data.** The garage chooses who keeps customers (setting "
        "`CUSTOMER_MASTER`): `app` (the default) — staff keep them in this app and the API "
        "only reads them, so POST and PATCH on customers and contacts answer 409 "
        "`customer_master_app`; or `finance` — your system keeps them and writes them here "
        "(customers:write), and staff can no longer change names, tax numbers and addresses."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package's static files: no CDN, and the split
    # view loads its setup as a script file, so the page works under the CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "QueueKindEnum": ["invoice", "cancellation"],
        "CustomerKindEnum": "garage.models.Customer.Kind",
    },
}
# Who keeps the customer master data (garage/master.py): "app" (staff, in this app; the API only
# reads customers) or "finance" (the finance system, over the API; staff cannot change names,
# tax numbers and addresses).
CUSTOMER_MASTER = env.str("CUSTOMER_MASTER", default="app")
if CUSTOMER_MASTER not in ("app", "finance"):
    raise ImproperlyConfigured("CUSTOMER_MASTER must be app or finance.")
# The login page lists the demo's users and password (seed_demo's, when they exist): for a trial
# (`make run`), never with DEBUG off, whatever the variable says.
SHOW_DEMO_LOGINS = DEBUG and env.bool("SHOW_DEMO_LOGINS", default=False)
# The demo API client's token is derived from this (garage seed_demo, DEBUG only); empty: none.
API_DEMO_TOKEN_SEED = env.str("API_DEMO_TOKEN_SEED", default="garage-demo" if DEBUG else "")

# Encryption keys for secrets stored in the database (the Qoyod API key). A list: the first
# encrypts, all decrypt, so keys rotate with `manage.py rotate_field_keys`.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[_DEV_FIELD_KEY])

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Without Redis the broker is a folder under var/: `make run` starts a real worker on it, so
# background reads behave as in production and pages never wait for Qoyod.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_FOLDER = VAR_DIR / "celery-broker"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# With acks_late a task that outlives the visibility timeout is redelivered to a second worker;
# keep the timeout well above the hard time limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 4}
if not REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        data_folder_in=str(CELERY_BROKER_FOLDER),
        data_folder_out=str(CELERY_BROKER_FOLDER),
        store_processed=False,
        # Broadcast (worker control) files would otherwise land in the current directory.
        control_folder=str(CELERY_BROKER_FOLDER / "control"),
    )
    CELERY_BROKER_FOLDER.mkdir(parents=True, exist_ok=True)
CELERY_TIMEZONE = TIME_ZONE

QOYOD_BASE_URL = env.str("QOYOD_BASE_URL", default="https://api.qoyod.com/2.0")
# "Open in Qoyod" on an invoice: Qoyod's web page for an invoice id. Qoyod does not document
# its web addresses; set this if your company's pages live elsewhere.
QOYOD_WEB_INVOICE_URL = env.str(
    "QOYOD_WEB_INVOICE_URL", default="https://www.qoyod.com/invoices/{id}"
)
QOYOD_WEB_CUSTOMER_URL = env.str(
    "QOYOD_WEB_CUSTOMER_URL", default="https://www.qoyod.com/customers/{id}"
)
QOYOD_WEB_JOURNAL_ENTRY_URL = env.str(
    "QOYOD_WEB_JOURNAL_ENTRY_URL", default="https://www.qoyod.com/journal_entries/{id}"
)
QOYOD_WEB_CREDIT_NOTE_URL = env.str(
    "QOYOD_WEB_CREDIT_NOTE_URL", default="https://www.qoyod.com/credit_notes/{id}"
)
QOYOD_WEB_SIMPLE_BILL_URL = env.str(
    "QOYOD_WEB_SIMPLE_BILL_URL", default="https://www.qoyod.com/simple_bills/{id}"
)
QOYOD_SANDBOX_URL = env.str("QOYOD_SANDBOX_URL", default="http://127.0.0.1:8765/2.0")
# The API key is sent only over https to these hosts (qoyod_sync/connection.py), and to the
# sandbox's origin only while the sandbox is enabled: by default in a trial (DEBUG) install.
QOYOD_ALLOWED_HOSTS = env.list("QOYOD_ALLOWED_HOSTS", default=[urlsplit(QOYOD_BASE_URL).hostname])
QOYOD_SANDBOX_ENABLED = env.bool("QOYOD_SANDBOX_ENABLED", default=DEBUG)
QOYOD_REFRESH_STALE_MINUTES = env.int("QOYOD_REFRESH_STALE_MINUTES", default=10)
QOYOD_REFRESH_PERIOD_MINUTES = env.int("QOYOD_REFRESH_PERIOD_MINUTES", default=30)
# Each period the beat task queues at most this many chunks of 100 open invoices (one request
# each), the stalest first: 300 chunks are 30,000 invoices and about a minute of Qoyod's rate
# every 30 minutes, so 100,000 open invoices are all read within four runs.
QOYOD_REFRESH_CHUNKS_PER_RUN = env.int("QOYOD_REFRESH_CHUNKS_PER_RUN", default=300)
# Beat (embedded in the `make run` worker, its own process with Redis) reads open Qoyod-managed
# invoices back from Qoyod; the task only reads (qoyod_sync/tasks.py).
# With Auto sync on, the chart of accounts, warehouses and taxes are read again daily, at
# ACCOUNTING_CONFIG_SYNC_HOUR (local time), a quiet hour for Qoyod and the garage.
ACCOUNTING_CONFIG_SYNC_HOUR = env.int("ACCOUNTING_CONFIG_SYNC_HOUR", default=3)
# The nightly reconciliation compares the last QOYOD_RECONCILE_DAYS days of invoices with Qoyod.
QOYOD_RECONCILE_DAYS = env.int("QOYOD_RECONCILE_DAYS", default=7)
QOYOD_RECONCILE_HOUR = env.int("QOYOD_RECONCILE_HOUR", default=2)
# Finance API: an Idempotency-Key's stored answer is kept this long (the hourly beat task
# deletes older ones). Webhook deliveries: tries, the first retry's delay (doubling after),
# the receiver's time to answer, and whether loopback / private receivers are allowed (only in
# a trial install: in production a delivery must never reach the internal network).
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
# A pending delivery this overdue lost its task and is queued again (api/webhooks.py), by a
# beat task that runs as often; longer than a busy queue's wait, so few are queued twice.
WEBHOOK_REQUEUE_AFTER_SECONDS = env.int("WEBHOOK_REQUEUE_AFTER_SECONDS", default=300)
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=DEBUG)
CELERY_BEAT_SCHEDULE = {
    "qoyod-reconcile-nightly": {
        "task": "qoyod_sync.tasks.reconcile_nightly",
        "schedule": crontab(hour=QOYOD_RECONCILE_HOUR, minute=30),
    },
    "qoyod-refresh-open-invoices": {
        "task": "qoyod_sync.tasks.refresh_open_invoices",
        "schedule": timedelta(minutes=QOYOD_REFRESH_PERIOD_MINUTES),
    },
    "api-webhook-deliveries-requeue": {
        "task": "api.tasks.webhook_deliveries_requeue",
        "schedule": timedelta(seconds=WEBHOOK_REQUEUE_AFTER_SECONDS),
    },
    "api-idempotency-keys-expire": {
        "task": "api.tasks.idempotency_keys_expire",
        "schedule": timedelta(hours=1),
    },
    "accounting-configuration-sync": {
        "task": "accounting.tasks.configuration_sync_daily",
        "schedule": crontab(hour=ACCOUNTING_CONFIG_SYNC_HOUR, minute=15),
    },
}
QOYOD_RATE_LIMIT_PER_MINUTE = env.int("QOYOD_RATE_LIMIT_PER_MINUTE", default=280)
# Seconds. A web request that calls Qoyod must end before gunicorn's worker timeout (30 s in the
# Dockerfile and compose): QOYOD_DEADLINE bounds one request's Qoyod calls altogether (a send's
# lookups and writes, retries and rate limiting included), leaving 10 s for our own work; a
# send's claim lasts a few seconds longer than that (qoyod_sync/push/state.py LEASE).
QOYOD_CONNECT_TIMEOUT = env.float("QOYOD_CONNECT_TIMEOUT", default=5.0)
QOYOD_READ_TIMEOUT = env.float("QOYOD_READ_TIMEOUT", default=15.0)
QOYOD_WRITE_TIMEOUT = env.float("QOYOD_WRITE_TIMEOUT", default=10.0)
QOYOD_DEADLINE = env.float("QOYOD_DEADLINE", default=20.0)

INVOICE_NUMBER_PREFIX = env.str("INVOICE_NUMBER_PREFIX", default="INV")
# Garage transactions (accounting/): their number prefix, the largest receipt file accepted,
# and how many days ahead a transaction's date may be (a receipt dated tomorrow across a time
# zone is fine, a typo in the year is not).
TRANSACTION_NUMBER_PREFIX = env.str("TRANSACTION_NUMBER_PREFIX", default="EXP")
RECEIPT_MAX_BYTES = env.int("RECEIPT_MAX_BYTES", default=10 * 1024 * 1024)
TRANSACTION_MAX_DAYS_AHEAD = env.int("TRANSACTION_MAX_DAYS_AHEAD", default=1)
# The largest bank or card statement CSV accepted; a larger request is refused from its
# Content-Length, before its body is read.
STATEMENT_MAX_BYTES = env.int("STATEMENT_MAX_BYTES", default=5 * 1024 * 1024)
INVOICE_PAYMENT_TERM_DAYS = env.int("INVOICE_PAYMENT_TERM_DAYS", default=30)
# Days the link emailed to a customer opens the printable invoice (invoicing/views/document.py).
INVOICE_SHARE_LINK_DAYS = env.int("INVOICE_SHARE_LINK_DAYS", default=30)
SELLER_NAME = env.str("SELLER_NAME", default="Garage Demo Workshop")
SELLER_VAT_NUMBER = env.str("SELLER_VAT_NUMBER", default="300000000000003")

# JSON lines (with the request and Celery task ids) for log collectors in production, plain
# messages on a developer's console; DJANGO_LOG_FORMAT=json or text overrides either.
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("DJANGO_LOG_FORMAT must be json or text.")
LOGGING = logging_config(
    json_lines=LOG_FORMAT == "json", level=env.str("LOG_LEVEL", default="INFO")
)

# Error reports to Sentry, only when a DSN is given (sentry-sdk is the optional `sentry` extra).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading writes the domain into browsers' built-in https-only list, which takes months
    # to undo, so it is the operator's explicit choice; `check --deploy` is told it was made.
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    if SECRET_KEY == _DEV_SECRET:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (DJANGO_DEBUG is off).")
    if _DEV_FIELD_KEY in FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured("Set FIELD_ENCRYPTION_KEYS (DJANGO_DEBUG is off).")
