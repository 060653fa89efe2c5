"""One door to Qoyod: only the qoyod_sync/client/ package speaks HTTP or holds the transport."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOOR = ROOT / "qoyod_sync" / "client"
# HTTP client libraries; the sandbox is a server and needs none of them.
HTTP_CLIENTS = ("httpx", "requests", "urllib3", "urllib.request", "http.client", "aiohttp")
TRANSPORT = "qoyod_sync.client.transport"
# HTTP clients that never talk to Qoyod: the load generator and the benches' harness drive our
# own gunicorn on loopback. The webhook sender posts to finance systems' own endpoints
# (api/webhooks.py checks them).
NOT_QOYOD = {
    ROOT / "bench" / "load.py",
    ROOT / "bench" / "harness.py",
    ROOT / "api" / "webhook_sender.py",
}


def our_modules() -> list[Path]:
    """Every Python file of the project, tests and the virtualenv aside."""
    return [
        path
        for path in ROOT.rglob("*.py")
        if not {".venv", "tests", "node_modules"} & set(path.relative_to(ROOT).parts)
        and not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
    ]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _is(name: str, module: str) -> bool:
    return name == module or name.startswith(f"{module}.")


def test_only_the_client_package_imports_an_http_client() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imports_of(path) if any(_is(name, lib) for lib in HTTP_CLIENTS)
        )
        for path in our_modules()
        if not path.is_relative_to(DOOR) and path not in NOT_QOYOD
    }

    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_the_client_package_reaches_the_transport() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in our_modules()
        if not path.is_relative_to(DOOR) and any(_is(n, TRANSPORT) for n in imports_of(path))
    ]

    assert offenders == []


def test_the_walk_sees_the_client_and_its_callers() -> None:
    # Not vacuous: the walk reads the client package and the modules that use it.
    found = {str(path.relative_to(ROOT)) for path in our_modules()}
    assert {
        "qoyod_sync/client/transport.py",
        "qoyod_sync/push/steps.py",
        "qoyod_sync/services.py",
        "bench/qoyod_client.py",
    } <= found
    assert "httpx" in imports_of(DOOR / "transport.py")
