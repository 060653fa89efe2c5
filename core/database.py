"""Settings of each new database connection that Django's DATABASES cannot express."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper


def connection_tune(*, sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """The planner's cost of an index read (settings.DATABASE_RANDOM_PAGE_COST), per session
    rather than in the connection's startup options, which poolers such as PgBouncer refuse."""
    cost = settings.DATABASE_RANDOM_PAGE_COST
    if connection.vendor == "postgresql" and cost:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('random_page_cost', %s, false)", [cost])
