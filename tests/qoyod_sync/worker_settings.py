"""Settings for the worker subprocess of the kill test in test_tasks.py.

A short visibility timeout, so the task a SIGKILLed worker held is delivered again within seconds
instead of an hour; the time limit stays under it, as in production.
"""

from __future__ import annotations

from config.settings_test import *  # noqa: F403

CELERY_TASK_TIME_LIMIT = 8
CELERY_TASK_SOFT_TIME_LIMIT = 7
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 10}
