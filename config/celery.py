"""The Celery app. Tasks only ever read from Qoyod (see qoyod_sync/tasks.py)."""

from __future__ import annotations

import copy
import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun

from config import observability

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("garage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def logging_from_settings(*, loglevel: int | str | None = None, **kwargs: Any) -> None:
    """Workers and beat log through Django's LOGGING (JSON lines in production) instead of
    Celery's own formatter, so their lines carry the task id as the web's carry the request id.
    The command line's --loglevel still sets the threshold."""
    from django.conf import settings

    config = copy.deepcopy(settings.LOGGING)
    if loglevel:
        config["root"]["level"] = loglevel
    logging.config.dictConfig(config)


@task_prerun.connect
def task_context_on_start(*, task_id: str, **kwargs: Any) -> None:
    observability.task_id_var.set(task_id)


@task_postrun.connect
def task_context_on_end(**kwargs: Any) -> None:
    observability.task_id_var.set(None)
