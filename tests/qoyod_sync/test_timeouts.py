"""The Qoyod timeouts fit inside each other: a slow Qoyod ends a send before gunicorn kills the
worker, and the row's claim lapses soon after the send's budget, not minutes later."""

from __future__ import annotations

import re
import shlex
import time
from datetime import timedelta

import httpx
import pytest
import yaml
from django.conf import settings

from qoyod_sync.client import ClientOptions, QoyodWriter
from qoyod_sync.client.transport import Session
from qoyod_sync.errors import QoyodNotSent
from qoyod_sync.push import LEASE
from tests.qoyod_fixtures import TEST_OPTIONS

ROOT = settings.BASE_DIR
# Time left for everything around the Qoyod calls of one request (our queries, the render).
MARGIN = 10


def _gunicorn_timeout(command: str) -> int:
    words = shlex.split(command)
    assert words[0].endswith("gunicorn"), command
    # gunicorn's default is 30; it is spelled out so this test and the settings agree on it.
    assert "--timeout" in words, f"no --timeout in {command!r}"
    return int(words[words.index("--timeout") + 1])


def _worker_timeouts() -> dict[str, int]:
    dockerfile = (ROOT / "Dockerfile").read_text()
    [cmd] = re.findall(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]["command"]
    smoke = (ROOT / ".ci" / "smoke-production").read_text()
    [smoke_cmd] = re.findall(r'^"\$BIN/gunicorn" [^&]*', smoke.replace("\\\n", " "), re.MULTILINE)
    return {
        "Dockerfile": _gunicorn_timeout(" ".join(yaml.safe_load(cmd))),
        "docker-compose.yml": _gunicorn_timeout(web.split("&&")[-1].strip().rstrip('"')),
        ".ci/smoke-production": _gunicorn_timeout(smoke_cmd.replace('"$BIN/gunicorn"', "gunicorn")),
    }


def test_deadline_fits_in_the_web_worker_and_the_lease_just_outlives_it():
    deadline = settings.QOYOD_DEADLINE
    options = ClientOptions()

    assert options.deadline == deadline
    assert options.timeout.connect == settings.QOYOD_CONNECT_TIMEOUT
    assert options.timeout.read == settings.QOYOD_READ_TIMEOUT
    assert options.timeout.read < deadline
    for where, worker_timeout in _worker_timeouts().items():
        assert deadline + MARGIN <= worker_timeout, where
    assert timedelta(seconds=deadline) < LEASE < timedelta(seconds=deadline + MARGIN)


def test_no_request_starts_once_the_sends_budget_is_spent():
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"contact": {"id": 1}})

    options = ClientOptions(
        rate_limit_per_minute=TEST_OPTIONS.rate_limit_per_minute,
        burst=TEST_OPTIONS.burst,
        transport=httpx.MockTransport(handler),
        stop_at=time.monotonic() - 1,
    )
    writer = QoyodWriter(base_url="https://api.qoyod.com/2.0", api_key="key-0001", options=options)

    with pytest.raises(QoyodNotSent) as caught:
        writer.create_customer(name="Reem", phone_number="0501234567")

    assert caught.value.message == (
        "The time this request may wait for Qoyod ran out before sending; nothing was sent."
    )
    assert sent == []


def test_each_call_waits_no_longer_than_the_budget_left():
    seen: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"inventories": []})

    stop_at = time.monotonic() + 3
    options = ClientOptions(transport=httpx.MockTransport(handler), stop_at=stop_at)
    session = Session("https://api.qoyod.com/2.0", "key-0001", options)

    session.read("/inventories")

    [timeout] = seen
    assert 0 < timeout["read"] <= 3
    assert timeout["connect"] <= 3
