"""Shared fixtures.

CI sets REQUIRE_SERVICES=1: then a test that would be skipped because PostgreSQL, Redis or the
browser is missing fails instead, and any skip at all fails the run (see pytest_sessionfinish).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation

pytest_plugins = ["tests.qoyod_fixtures"]

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") not in ("", "0", "false")


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES is set but {reason}")
    pytest.skip(reason)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if REQUIRE_SERVICES and reporter is not None and reporter.stats.get("skipped"):
        reporter.write_line("REQUIRE_SERVICES is set and tests were skipped: failing the run")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the default language. LocaleMiddleware activates a request's language
    for the thread and leaves it active, so an Arabic request would leak into the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def require_postgres() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip_or_fail("this test needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def require_redis() -> str:
    url = settings.REDIS_URL
    if not url:
        skip_or_fail("this test needs Redis (set REDIS_URL)")
    return url
