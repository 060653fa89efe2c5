"""One pooled connection per process and key: reads reuse it instead of opening new ones."""

from __future__ import annotations

import os

from tests.qoyod_fixtures import SandboxHandle


def test_a_hundred_sequential_reads_open_at_most_five_connections(
    qoyod_sandbox: SandboxHandle,
) -> None:
    reader = qoyod_sandbox.reader()

    for _ in range(100):
        reader.list_taxes()

    assert qoyod_sandbox.requests.count(method="GET") == 100
    assert qoyod_sandbox.connections_accepted <= 5


def test_readers_and_writers_of_one_key_share_the_pool(qoyod_sandbox: SandboxHandle) -> None:
    for i in range(10):
        qoyod_sandbox.writer().create_customer(name=f"C{i}")
        qoyod_sandbox.reader().list_warehouses()

    assert qoyod_sandbox.connections_accepted == 1


def test_another_key_gets_its_own_pool(qoyod_sandbox: SandboxHandle) -> None:
    qoyod_sandbox.reader("first-key-0001").list_taxes()
    qoyod_sandbox.reader("second-key-0002").list_taxes()
    qoyod_sandbox.reader("first-key-0001").list_taxes()

    assert qoyod_sandbox.connections_accepted == 2


def test_a_forked_worker_opens_its_own_connection(qoyod_sandbox: SandboxHandle) -> None:
    qoyod_sandbox.reader().list_taxes()

    pid = os.fork()
    if pid == 0:
        # The child (think Celery prefork) builds its reader after the fork, as tasks do.
        try:
            qoyod_sandbox.reader().list_taxes()
            code = 0
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert qoyod_sandbox.connections_accepted == 2
