"""`manage.py qoyod_sandbox` serves the sandbox as its own process, without a database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_command_serves_the_api_and_the_page_without_a_database() -> None:
    port = free_port()
    # A database nobody can reach: the command must not touch it.
    env = {**os.environ, "DATABASE_URL": "postgres://nobody:nothing@127.0.0.1:9/none"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qoyod_sandbox", "--port", str(port), "--quiet"]
        + ["--key", "k-1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # The banner comes once the port is bound and listening: from then on a connection
        # waits in the backlog until the server takes it, so no retrying is needed.
        banner = process.stdout.readline() if process.stdout else ""
        assert banner.startswith("Qoyod sandbox: API at"), banner
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            taxes = http.get("/2.0/taxes", headers={"API-KEY": "k-1"})
            unknown = http.get("/2.0/taxes", headers={"API-KEY": "k-2"})
            page = http.get("/_sandbox/")
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert banner == (
        f"Qoyod sandbox: API at http://127.0.0.1:{port}/2.0/, accountant page at "
        f"http://127.0.0.1:{port}/_sandbox/ (Ctrl-C to stop)\n"
    )
    assert taxes.status_code == 200
    assert [t["id"] for t in taxes.json()["taxes"]] == [1, 2, 3]
    assert (unknown.status_code, unknown.json()) == (
        401,
        {"error": "Unauthorized - Invalid API key"},
    )
    assert "Sandbox Company 1" in page.text
