"""Test settings: the same module, with fast hashing and the test database from DATABASE_URL."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_DEBUG", "true")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = False
# Without Redis, tasks queued by tests stay in this process (an in-process worker can take
# them) instead of landing in var/celery-broker, where a `make run` worker would pick them up.
CELERY_BROKER_URL = REDIS_URL or "memory://"  # noqa: F405
