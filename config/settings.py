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
    "core",
    "audit",
    "garage",
    "invoicing",
    "payments",
    "qoyod_sync",
    "accounting",
    "api",
    "axes",
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
            ],
            # Tag libraries that live beside the code they draw rather than in a templatetags
            # package: the read-back package keeps its tags with its views.
            "libraries": {"qoyod_refresh": "qoyod_sync.readback.tags"},
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
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "garage:job_list"
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

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {"TITLE": "Garage finance API", "VERSION": "1.0.0"}

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
QOYOD_SANDBOX_URL = env.str("QOYOD_SANDBOX_URL", default="http://127.0.0.1:8765/2.0")
# The API key is sent only over https to these hosts (qoyod_sync/connection.py), and to the
# sandbox's origin only while the sandbox is enabled: by default in a trial (DEBUG) install.
QOYOD_ALLOWED_HOSTS = env.list("QOYOD_ALLOWED_HOSTS", default=[urlsplit(QOYOD_BASE_URL).hostname])
QOYOD_SANDBOX_ENABLED = env.bool("QOYOD_SANDBOX_ENABLED", default=DEBUG)
QOYOD_REFRESH_STALE_MINUTES = env.int("QOYOD_REFRESH_STALE_MINUTES", default=10)
QOYOD_REFRESH_PERIOD_MINUTES = env.int("QOYOD_REFRESH_PERIOD_MINUTES", default=30)
# Beat (embedded in the `make run` worker, its own process with Redis) reads open Qoyod-managed
# invoices back from Qoyod; the task only reads (qoyod_sync/tasks.py).
CELERY_BEAT_SCHEDULE = {
    "qoyod-refresh-open-invoices": {
        "task": "qoyod_sync.tasks.refresh_open_invoices",
        "schedule": timedelta(minutes=QOYOD_REFRESH_PERIOD_MINUTES),
    },
}
QOYOD_RATE_LIMIT_PER_MINUTE = env.int("QOYOD_RATE_LIMIT_PER_MINUTE", default=280)

INVOICE_NUMBER_PREFIX = env.str("INVOICE_NUMBER_PREFIX", default="INV")
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
