"""Celery tasks of accounting. Like every task they only read from Qoyod (qoyod_sync/tasks.py)."""

from __future__ import annotations

from celery import Task, shared_task

from accounting.configuration import configuration_auto_sync
from qoyod_sync.tasks import READ_TASK_OPTIONS


@shared_task(bind=True, **READ_TASK_OPTIONS)
def configuration_sync_daily(self: Task) -> None:
    """Refresh the chart of accounts, warehouses and taxes when Auto sync is on (beat, daily)."""
    configuration_auto_sync()
