"""Settings of each new database connection that Django's DATABASES cannot express, and queries
compiled once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def connection_tune(*, sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """The planner's cost of an index read (settings.DATABASE_RANDOM_PAGE_COST), per session
    rather than in the connection's startup options, which poolers such as PgBouncer refuse."""
    cost = settings.DATABASE_RANDOM_PAGE_COST
    if connection.vendor == "postgresql" and cost:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('random_page_cost', %s, false)", [cost])


@dataclass(frozen=True)
class CompiledQuery:
    """A queryset's SQL, built by the ORM once, run again raw with other values: building a
    query with subqueries costs more CPU than running it, and every page runs two (the signed-in
    user with their permissions, the Qoyod connection with the retry queue's badge)."""

    sql: str
    params: tuple[Any, ...]
    # Per parameter, the name of the value that replaces it on each run, or None.
    slots: tuple[str | None, ...]

    def raw(self, model: type[M], **values: Any) -> list[M]:
        params = slots_filled(self.params, self.slots, values)
        return list(model._default_manager.raw(self.sql, params))


def query_compile(queryset: QuerySet[Any], **stand_ins: Any) -> CompiledQuery:
    """Compile `queryset`, built with each stand-in for a value that changes between runs; the
    stand-ins are passed as the database receives them (compiled_query.raw takes the same form)
    and must differ from every other parameter."""
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    return CompiledQuery(sql, tuple(params), stand_in_slots(params, stand_ins))


def stand_in_slots(params: Sequence[Any], stand_ins: dict[str, Any]) -> tuple[str | None, ...]:
    """Per parameter of a compiled query, the name of the stand-in it is, or None."""
    slots = []
    for param in params:
        names = [name for name, stand_in in stand_ins.items() if param == stand_in]
        slots.append(names[0] if names else None)
    assert set(filter(None, slots)) == set(stand_ins), "every stand-in is a parameter"
    return tuple(slots)


def slots_filled(
    params: Sequence[Any], slots: Sequence[str | None], values: dict[str, Any]
) -> list[Any]:
    """A compiled query's parameters with each stand-in replaced by its value of this run."""
    pairs = zip(params, slots, strict=True)
    return [param if name is None else values[name] for param, name in pairs]
