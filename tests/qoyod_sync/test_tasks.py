"""Celery tasks only read from Qoyod, by construction and in fact; and a real worker does the job.

- By construction: a walk over everything a task's code can call (names its code uses, through
  our modules and classes) never reaches the writer, the send, or anything that deletes.
- In fact: a task run against the sandbox sends GET and nothing else.
- Options: late acknowledgement, rejected when the worker dies, time limit under the broker's
  visibility timeout; beat schedules the periodic refresh.
- With Redis: a real worker processes the refresh queued by opening the invoices page; a worker
  SIGKILLed mid-task and started again ends in the same state as one that was never killed.
  Both wait on events (a request held by the sandbox, a task finished), not on the clock.
"""

from __future__ import annotations

import inspect
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from celery import Task
from celery.signals import task_postrun
from django.conf import settings
from django.db import connection
from kombu.exceptions import OperationalError

from config.celery import app
from core import roles
from invoicing.models import Invoice
from payments.models import QoyodAllocation, QoyodPaymentState, QoyodStatus
from qoyod_sync import client, push, services, tasks
from qoyod_sync.client import QoyodReader, QoyodWriter, transport
from tests.factories import UserFactory
from tests.qoyod_sync.refresh_helpers import (
    celery_worker,
    connect,
    managed_invoice,
    purge_queue,
    qoyod_id,
)

ROOT = Path(__file__).resolve().parents[2]
INVOICES = "/2.0/invoices"
OUR_PACKAGES = ("qoyod_sync", "payments", "invoicing", "garage", "accounting", "api", "config")

# Tasks that never reach Qoyod at all: webhooks to finance systems, local housekeeping.
NOT_QOYOD_TASKS = {
    "api.tasks.webhook_deliver",
    "api.tasks.webhook_deliveries_requeue",
    "api.tasks.idempotency_keys_expire",
}


def our_tasks() -> dict[str, Any]:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if name.startswith(OUR_PACKAGES)}


# ---- by construction ------------------------------------------------------------------------


def _ours(obj: Any) -> bool:
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
    return isinstance(module, str) and module.split(".")[0] in OUR_PACKAGES


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def reachable_from(root: Callable[..., Any], *, stop_at: tuple[type, ...]) -> list[Any]:
    """Every function, class and module of ours that `root` can reach by the names it uses.

    Over-approximates: a name is followed wherever it resolves (a global, or an attribute of a
    module or class already reached), and a class leads to all its methods. `stop_at` classes
    are reached but not entered: the reader is proven read-only by test_reader_boundary.py.
    A Celery task reached (one queued by another) leads to its run function.
    """
    seen: dict[int, Any] = {}
    frontier: list[tuple[Any, set[str]]] = [(root, set())]
    while frontier:
        obj, names = frontier.pop()
        obj = getattr(obj, "__func__", obj) if inspect.ismethod(obj) else obj
        if isinstance(obj, types.ModuleType):
            # A module is entered again by every function that uses it, each time for the names
            # that function uses: `fetch.x` in one task and `fetch.y` in the task it queues.
            seen.setdefault(id(obj), obj)
            frontier += [(getattr(obj, n), names) for n in names if hasattr(obj, n)]
            continue
        if id(obj) in seen:
            continue
        seen[id(obj)] = obj
        if isinstance(obj, Task):
            # A task that queues another reaches whatever that one runs.
            frontier.append((obj.run, names))
        elif isinstance(obj, type):
            if obj in stop_at:
                continue
            for value in vars(obj).values():
                value = getattr(value, "__func__", value)
                value = getattr(value, "fget", value)
                if inspect.isfunction(value):
                    frontier.append((value, names))
        elif inspect.isfunction(obj):
            used = _code_names(obj.__code__)
            scope = obj.__globals__
            cells = [c.cell_contents for c in obj.__closure__ or () if _has_contents(c)]
            for value in [*(scope[n] for n in used if n in scope), *cells]:
                if _ours(value):
                    frontier.append((value, used))
    return list(seen.values())


def _has_contents(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def forbidden() -> list[Any]:
    """What no task may reach: the writer and its methods, the send, anything that builds a
    writer or deletes a draft, and the session's write path."""
    writer_methods = [v for v in vars(QoyodWriter).values() if inspect.isfunction(v)]
    push_functions = [
        v for v in vars(push).values() if inspect.isfunction(v) and v.__module__ == push.__name__
    ]
    return [
        QoyodWriter,
        *writer_methods,
        *push_functions,
        services.connection_writer,
        services.invoice_qoyod_draft_delete,
        transport.Session.write,
    ]


def _label(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', obj)}"


def test_no_task_can_reach_a_write_method():
    found = our_tasks()
    assert set(found) >= {
        "qoyod_sync.tasks.refresh_invoices",
        "qoyod_sync.tasks.refresh_open_invoices",
    }
    bad = {id(obj) for obj in forbidden()}
    for name, task in found.items():
        reached = reachable_from(task.run, stop_at=(QoyodReader,))
        assert [_label(o) for o in reached if id(o) in bad] == [], name
        if name in NOT_QOYOD_TASKS:
            assert QoyodReader not in reached, name
            continue
        # The walk really went through to Qoyod: it reached the reader and its builder.
        assert QoyodReader in reached and services.connection_reader in reached, name


def test_the_walk_would_catch_a_write():
    # The same walk from the row's Send button reaches the writer: it is not vacuous.
    reached = reachable_from(push.invoice_send_draft, stop_at=(QoyodReader,))
    assert QoyodWriter in reached
    reached = reachable_from(services.invoice_qoyod_draft_delete, stop_at=(QoyodReader,))
    assert QoyodWriter.delete_draft_invoice in reached


def test_the_task_module_holds_no_writer():
    values = [v for k, v in vars(tasks).items() if not k.startswith("__")]
    assert not [v for v in values if v in (QoyodWriter, services, push, client)]


# ---- options --------------------------------------------------------------------------------


def test_read_tasks_ack_late_reject_on_worker_lost_and_fit_the_visibility_timeout():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    for name, task in our_tasks().items():
        assert (task.acks_late, task.reject_on_worker_lost) == (True, True), name
        time_limit = task.time_limit or app.conf.task_time_limit
        assert time_limit is not None and time_limit < visibility, name


def test_beat_refreshes_open_invoices_every_period():
    entry = app.conf.beat_schedule["qoyod-refresh-open-invoices"]

    assert entry["task"] == tasks.refresh_open_invoices.name
    assert entry["schedule"] == timedelta(minutes=settings.QOYOD_REFRESH_PERIOD_MINUTES)


# ---- in fact: only GET leaves a task -------------------------------------------------------


@pytest.mark.django_db
def test_read_tasks_send_only_get(
    qoyod_sandbox, run_queued_refreshes, django_capture_on_commit_callbacks
):
    connect(qoyod_sandbox)
    invoices = [managed_invoice(qoyod_sandbox) for _ in range(3)]
    qoyod_sandbox.act("invoices", qoyod_id(invoices[0]), "approve")
    qoyod_sandbox.act("invoices", qoyod_id(invoices[0]), "payments", {})
    qoyod_sandbox.act("invoices", qoyod_id(invoices[1]), "delete")

    tasks.refresh_invoices.apply(args=[[i.pk for i in invoices]])
    # The periodic task queues the one still open; its refresh runs once the queueing commits.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.refresh_open_invoices.apply()

    sent = qoyod_sandbox.requests.all()
    assert {r.method for r in sent} == {"GET"} and len(sent) == 2
    states = dict(QoyodPaymentState.objects.values_list("invoice_id", "qoyod_status"))
    assert states == {
        invoices[0].pk: QoyodStatus.PAID,
        invoices[1].pk: QoyodStatus.MISSING,
        invoices[2].pk: QoyodStatus.DRAFT,
    }


@pytest.mark.django_db
def test_queueing_marks_the_rows_and_sends_after_commit(
    qoyod_sandbox, django_capture_on_commit_callbacks
):
    invoice = managed_invoice(qoyod_sandbox)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = tasks.invoices_refresh_enqueue(invoice_ids=[invoice.pk], stale_only=True)

    assert len(callbacks) == 1
    assert queued.refreshable == queued.pending == {invoice.pk}
    state = QoyodPaymentState.objects.get(invoice=invoice)
    # The callback carries the ids and the token the rows were marked with (the task id).
    assert callbacks[0].args == ([invoice.pk], state.claim_token)


@pytest.mark.django_db
def test_when_the_broker_is_down_the_marks_are_undone(qoyod_sandbox, monkeypatch):
    invoice = managed_invoice(qoyod_sandbox)

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.refresh_invoices, "apply_async", broker_down)
    queued = tasks.invoices_refresh_enqueue(invoice_ids=[invoice.pk], stale_only=True)
    tasks._publish([invoice.pk], QoyodPaymentState.objects.get(invoice=invoice).claim_token)

    assert queued.pending == {invoice.pk}
    state = QoyodPaymentState.objects.get(invoice=invoice)
    assert (state.queued_until, state.claim_token) == (None, "")


# ---- a real worker on Redis ----------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_processes_the_refresh_queued_by_opening_the_page(
    require_redis, qoyod_sandbox, client
):
    connect(qoyod_sandbox)
    invoice = managed_invoice(qoyod_sandbox)
    qoyod_sandbox.act("invoices", qoyod_id(invoice), "approve")
    qoyod_sandbox.act("invoices", qoyod_id(invoice), "payments", {"amount": "76.00"})
    client.force_login(UserFactory(username="advisor", role=roles.ADVISOR))
    purge_queue()

    response = client.get("/invoices/")
    # Once loaded, the page posts its rows to the stale check (hx-trigger="load").
    stale = client.post("/qoyod/refresh/stale/", {"invoice": [invoice.pk]})

    # Answered before any worker runs and without a word to Qoyod: it waited for neither.
    assert response.status_code == 200
    assert 'data-pending="1"' in stale.content.decode()
    assert qoyod_sandbox.requests.all() == []
    token = QoyodPaymentState.objects.get(invoice=invoice).claim_token
    finished = threading.Event()

    def on_postrun(task_id: str = "", **kwargs: Any) -> None:
        if task_id == token:
            finished.set()

    task_postrun.connect(on_postrun, weak=False)
    try:
        with celery_worker(purge=False):
            assert finished.wait(timeout=60), "the worker never finished the queued refresh"
    finally:
        task_postrun.disconnect(on_postrun)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PARTIALLY_PAID
    assert (invoice.amount_paid, invoice.balance) == (Decimal("76.00"), Decimal("200.00"))
    assert [r.method for r in qoyod_sandbox.requests.all()] == ["GET"]
    poll = client.get(
        "/qoyod/refresh/poll/", {"invoice": invoice.pk, "started": int(time.time())}
    ).content.decode()
    assert f'<tr id="invoice-row-{invoice.pk}"' in poll and "Partially paid" in poll


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class WorkerProcess:
    """A `celery worker` subprocess and the lines it writes on stdout, read as they come."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for_task(self, task_id: str, *, timeout: float = 60) -> str:
        """The state the worker reports for this task once it is done (worker_settings.py)."""
        prefix = f"test-worker: task done {task_id} "
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"the worker did not finish task {task_id} within {timeout:g} s")
            if line is None:
                pytest.fail(f"the worker exited before finishing task {task_id}")
            if line.startswith(prefix):
                return line.removeprefix(prefix)


@pytest.fixture
def worker_process(require_redis, require_postgres) -> Iterator[Callable[[], WorkerProcess]]:
    """Starts `celery worker` subprocesses on the test database; stops what is left after."""
    started: list[WorkerProcess] = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.qoyod_sync.worker_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        # The sandbox this test started is the only address the worker may send the key to.
        "QOYOD_SANDBOX_URL": settings.QOYOD_SANDBOX_URL,
        "QOYOD_SANDBOX_ENABLED": "true",
    }
    celery = str(Path(sys.executable).with_name("celery"))

    def start() -> WorkerProcess:
        worker = WorkerProcess(
            subprocess.Popen(
                [celery, "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
            )
        )  # fmt: skip
        threading.Thread(target=worker.read_stdout, daemon=True).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.terminate()
            worker.process.wait(timeout=20)


def _unacked() -> dict[str, str]:
    """The broker's deliveries not acknowledged yet: delivery tag → task id."""
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        held = channel.client.hgetall(channel.unacked_key)
    return {tag.decode(): json.loads(value)[0]["headers"]["id"] for tag, value in held.items()}


def _forget_unacked() -> None:
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.client.delete(channel.unacked_key, channel.unacked_index_key)


def _age_delivery(tag: str) -> None:
    """Date this delivery back to the epoch, as if the visibility timeout had long passed: a
    worker takes it back when it starts polling (kombu's restore of visible messages)."""
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.client.zadd(channel.unacked_index_key, {tag: 0}, xx=True)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_and_restarted_ends_in_the_same_state(
    qoyod_sandbox, worker_process
):
    connect(qoyod_sandbox)
    invoices = [managed_invoice(qoyod_sandbox) for _ in range(250)]
    ids = [i.pk for i in invoices]
    for invoice in invoices[::2]:
        qoyod_sandbox.act("invoices", qoyod_id(invoice), "approve")
        qoyod_sandbox.act("invoices", qoyod_id(invoice), "payments", {"amount": "100.00"})
    purge_queue()
    _forget_unacked()
    # Three batches of at most 100, one read each: the first read is held until the second is
    # held too, and the worker is killed while Qoyod holds that one.
    first_read = qoyod_sandbox.faults.hold_next(method="GET", path="/invoices")
    tasks.invoices_refresh_enqueue(invoice_ids=ids, stale_only=False)
    [token] = set(QoyodPaymentState.objects.values_list("claim_token", flat=True))

    def refreshed() -> int:
        return QoyodPaymentState.objects.filter(refreshed_at__isnull=False).count()

    first = worker_process()
    first_read.wait_received(timeout=60)
    second_read = qoyod_sandbox.faults.hold_next(method="GET", path="/invoices")
    first_read.release()
    second_read.wait_received(timeout=60)
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=20)
    second_read.release()

    # Killed with the first batch recorded and its task neither acknowledged nor rejected.
    assert refreshed() == 100
    [(tag, task_id)] = _unacked().items()
    assert task_id == token
    _age_delivery(tag)
    second = worker_process()
    assert second.wait_for_task(token) == "SUCCESS"
    # The worker acknowledges a task after it ends; a warm shutdown lets it do so, then exits.
    second.process.terminate()
    second.process.wait(timeout=30)

    assert refreshed() == 250
    paid = Invoice.objects.filter(pk__in=ids, status=Invoice.Status.PARTIALLY_PAID)
    assert paid.count() == 125
    for invoice in Invoice.objects.filter(pk__in=ids):
        paid_in_qoyod = invoice.pk in {i.pk for i in invoices[::2]}
        assert invoice.amount_paid == (Decimal("100.00") if paid_in_qoyod else Decimal("0.00"))
        # Exactly the history of one uninterrupted refresh: no change recorded twice.
        assert invoice.history.count() == (2 if paid_in_qoyod else 1)
    assert QoyodAllocation.objects.filter(invoice_id__in=ids).count() == 125
    assert not QoyodPaymentState.objects.exclude(claim_token="").exists()
    assert _unacked() == {}
    # Two reads by the killed worker, then all three batches again by the redelivered task.
    assert [(r.method, r.path) for r in qoyod_sandbox.requests.all()] == [("GET", INVOICES)] * 5
