"""The rows of several querysets read in one query: a record's page shows many short lists.

A page of one record (an invoice: its lines, history, events, payments, credit notes, Qoyod log)
would cost a query per list. rows_together reads them all in one UNION ALL and hands each list
back as its model's instances, in its queryset's order, with the related rows its
select_related names (one level) attached, as if each queryset had been evaluated alone.

The branches of a UNION must agree on the type of every column, so each branch puts a field in
the column kept for that field's database type and NULL (cast to that type) in the columns it
has nothing for; values get the converters the ORM would apply. prefetched() stores a list
where a related manager's .all() finds it, so code that asks invoice.lines.all() gets the rows
read here without another query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import F, Field, Model, QuerySet, Window
from django.db.models.functions import RowNumber

from core.database import slots_filled, stand_in_slots

# A row's place in its branch's order.
_POSITION = "row_position"


def rows_together(querysets: Sequence[QuerySet[Any]]) -> list[list[Any]]:
    """Each queryset's rows, read in one query. The querysets filter and order one model each
    and may select_related foreign keys of that model (not deeper, not reverse)."""
    return rows_query(querysets).read()


@dataclass(frozen=True)
class RowsQuery:
    """rows_together's query, built once: building it costs more CPU than reading the rows
    (the invoice page's six lists: 12 ms against 3), so a page that reads the same lists of
    every record builds it with stand-ins once and reads it with each record's values."""

    sql: str
    params: tuple[Any, ...]
    slots: tuple[str | None, ...]
    using: str
    plans: list[_Plan]
    # Per branch, each path's column of the union and the converters of its value.
    reads: list[list[tuple[str, int, list[tuple[Any, Any]]]]]

    def read(self, **values: Any) -> list[list[Any]]:
        """Each list's rows, with each stand-in replaced by its value in `values`."""
        connection = connections[self.using]
        found: list[list[tuple[int, Any]]] = [[] for _ in self.plans]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, slots_filled(self.params, self.slots, values))
            for row in cursor.fetchall():
                index = row[0]
                fields = {}
                for path, place, converters in self.reads[index]:
                    value = row[place]
                    for convert, expression in converters:
                        value = convert(value, expression, connection)
                    fields[path] = value
                found[index].append((row[1], _build(self.plans[index], fields)))
        return [
            [item for _position, item in sorted(items, key=lambda pair: pair[0])] for items in found
        ]


def rows_query(querysets: Sequence[QuerySet[Any]], **stand_ins: Any) -> RowsQuery:
    """The query of rows_together(querysets), built with each stand-in for a value that changes
    between reads (core.database.query_compile has the rules)."""
    using = querysets[0].db
    connection = connections[using]
    plans = [_plan(queryset) for queryset in querysets]
    # Per branch, the column of each of its paths: the n-th field of a type goes in that
    # type's n-th column.
    spots: list[dict[str, _Spot]] = []
    for plan in plans:
        seen: dict[_Type, int] = {}
        spot = {}
        for path, field in _columns(plan):
            key = _type_key(field, connection)
            spot[path] = (key, seen.get(key, 0))
            seen[key] = seen.get(key, 0) + 1
        spots.append(spot)
    columns = sorted({s for spot in spots for s in spot.values()})
    quote = connection.ops.quote_name

    # Each branch is compiled alone, its columns named b0, b1…; the union around them is put
    # together here, with a typed NULL where a branch has nothing. Compiling the union with the
    # ORM (a Cast per missing column per branch) cost three times what reading the lists does.
    parts, params = [], []
    for index, (queryset, spot) in enumerate(zip(querysets, spots, strict=True)):
        order: list[Any] = [
            (F(key[1:]).desc() if key.startswith("-") else F(key).asc())
            if isinstance(key, str)
            else key
            for key in (queryset.query.order_by or queryset.model._meta.ordering or ["pk"])
        ]
        named = {path: f"b{number}" for number, path in enumerate(spot)}
        branch = queryset.order_by().values(
            **{named[path]: F(path) for path in spot},
            **{_POSITION: Window(RowNumber(), order_by=order)},
        )
        sql, branch_params = branch.query.get_compiler(using).as_sql()
        column_of = {s: named[path] for path, s in spot.items()}
        select = [str(index), quote(_POSITION)] + [
            quote(column_of[s]) if s in column_of else f"CAST(NULL AS {s[0][1]})" for s in columns
        ]
        parts.append(f"SELECT {', '.join(select)} FROM ({sql}) {quote('branch')}")  # noqa: S608
        params.extend(branch_params)

    place = {s: number for number, s in enumerate(columns, start=2)}
    reads = [
        [
            (path, place[spot[path]], _converters(field, connection))
            for path, field in _columns(plan)
        ]
        for plan, spot in zip(plans, spots, strict=True)
    ]
    return RowsQuery(
        sql=" UNION ALL ".join(parts),
        params=tuple(params),
        slots=stand_in_slots(params, stand_ins),
        using=using,
        plans=plans,
        reads=reads,
    )


def _converters(field: Any, connection: Any) -> list[tuple[Any, Any]]:
    """What the ORM does to a value of `field` read from the database (the backend's and the
    field's converters), with the column expression they take."""
    column = field.get_col(field.model._meta.db_table)
    return [
        (convert, column)
        for convert in connection.ops.get_db_converters(column)
        + column.get_db_converters(connection)
    ]


def prefetched(instance: Model, name: str, rows: list[Any]) -> None:
    """Let instance.<name>.all() (a reverse foreign key's manager) return `rows` without a query,
    as prefetch_related leaves it."""
    queryset = getattr(instance, name).all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[getattr(instance, name).field.remote_field.cache_name] = queryset


# ---- the plan of one branch -----------------------------------------------------------------

_Plan = list[tuple[str | None, type[Model], list["Field[Any, Any]"]]]
# A column's type: (internal type, database type, decimal places); a spot: the type and which
# column of that type.
_Type = tuple[str, str, str]
_Spot = tuple[_Type, int]


def _plan(queryset: QuerySet[Any]) -> _Plan:
    """The model's concrete fields, then each select_related model's, with the relation's name."""
    model = queryset.model
    plan: _Plan = [(None, model, list(model._meta.concrete_fields))]
    related = queryset.query.select_related
    for name in related if isinstance(related, dict) else ():
        target = model._meta.get_field(name).related_model
        plan.append((name, target, list(target._meta.concrete_fields)))
    return plan


def _columns(plan: _Plan) -> list[tuple[str, Field[Any, Any]]]:
    return [
        (field.attname if relation is None else f"{relation}__{field.attname}", field)
        for relation, _model, fields in plan
        for field in fields
    ]


def _type_key(field: Any, connection: Any) -> _Type:
    # A foreign key is stored as its target's key, an auto key as the integer it is; decimal
    # places belong to the type, as the converter rounds to them.
    if field.is_relation:
        field = field.target_field
    internal = field.get_internal_type()
    if internal.endswith("AutoField"):
        return ("Integer", str(field.rel_db_type(connection)), "")
    return (internal, str(field.db_type(connection)), str(getattr(field, "decimal_places", "")))


def _build(plan: _Plan, values: dict[str, Any]) -> Model:
    instance: Model | None = None
    for relation, model, fields in plan:
        prefix = "" if relation is None else f"{relation}__"
        row = [values[prefix + field.attname] for field in fields]
        if relation is None:
            instance = model.from_db(None, [f.attname for f in fields], row)
            continue
        assert instance is not None
        # A nullable foreign key that points nowhere joins a row of NULLs.
        key: Any = plan[0][1]._meta.get_field(relation)
        pointed = getattr(instance, key.attname)
        instance._state.fields_cache[relation] = (
            model.from_db(None, [f.attname for f in fields], row) if pointed is not None else None
        )
    assert instance is not None
    return instance
