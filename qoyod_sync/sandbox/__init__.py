"""A local fake Qoyod (API 2.0) for tests, demos and trials; see server.py and control.py."""

from __future__ import annotations

from qoyod_sync.sandbox.server import SandboxServer

__all__ = ["SandboxServer"]
