"""Each new PostgreSQL connection prices index reads for SSD storage; a query compiled once runs
again with other values (core.database)."""

from __future__ import annotations

import pytest
from django.db import connection, connections
from django.test import override_settings

from core.database import query_compile
from garage.models import Branch
from tests.factories import BranchFactory

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


def test_a_compiled_query_runs_again_with_other_values_as_the_orm_would():
    olaya, malaz = BranchFactory(code="B1"), BranchFactory(code="B2")
    compiled = query_compile(
        Branch.objects.filter(pk__gte=-55, is_active=True).exclude(name_en="x" * 40),
        low=-55,
    )

    found = compiled.raw(Branch, low=malaz.pk)
    everything = compiled.raw(Branch, low=olaya.pk)

    assert [b.pk for b in found] == [malaz.pk]
    assert sorted(b.pk for b in everything) == [olaya.pk, malaz.pk]
    assert found[0].name_en == malaz.name_en
    assert compiled.slots.count("low") == 1


def test_a_stand_in_that_is_not_a_parameter_is_refused():
    with pytest.raises(AssertionError, match="every stand-in is a parameter"):
        query_compile(Branch.objects.filter(pk=3), low=4)
