"""Settings for the worker subprocess of the kill test in test_tasks.py.

The test's own settings, plus a marker line on the worker's stdout after each task
("test-worker: task done <task id> <state>"), so that the test waits for the task to finish
instead of guessing how long it takes.
"""

from __future__ import annotations

import sys
from typing import Any

from celery.signals import task_postrun

from config.settings_test import *  # noqa: F403


@task_postrun.connect(weak=False)
def _say_task_done(task_id: str = "", state: str = "", **kwargs: Any) -> None:
    # The real stdout: the worker redirects sys.stdout into its log.
    sys.__stdout__.write(f"test-worker: task done {task_id} {state}\n")
    sys.__stdout__.flush()
