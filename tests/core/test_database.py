"""Each new PostgreSQL connection prices index reads for SSD storage (core.database)."""

from __future__ import annotations

import pytest
from django.db import connection, connections
from django.test import override_settings

pytestmark = pytest.mark.django_db


def _new_connection_cost() -> str:
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SHOW random_page_cost")
            return cursor.fetchone()[0]
    finally:
        fresh.close()


def test_a_new_connection_takes_the_configured_random_page_cost(require_postgres):
    with override_settings(DATABASE_RANDOM_PAGE_COST="1.3"):
        assert _new_connection_cost() == "1.3"


def test_an_empty_setting_keeps_the_servers_own(require_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT boot_val FROM pg_settings WHERE name = 'random_page_cost'")
        server = cursor.fetchone()[0]

    with override_settings(DATABASE_RANDOM_PAGE_COST=""):
        assert _new_connection_cost() == server
