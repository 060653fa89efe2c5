"""Fixtures of the Qoyod sync tests."""

from __future__ import annotations

from typing import Any

import pytest

from qoyod_sync import tasks


@pytest.fixture
def run_queued_refreshes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refresh task queued is run at once in this process, under the id it was queued with
    (the claim token), as a worker would; no broker involved."""

    def run(args: tuple[Any, ...], task_id: str, **options: Any) -> None:
        tasks.refresh_invoices.apply(args=args, task_id=task_id)

    monkeypatch.setattr(tasks.refresh_invoices, "apply_async", run)
