"""The rows of several querysets read in one query: a record's page shows many short lists.

A page of one record (an invoice: its lines, history, events, payments, credit notes, Qoyod log)
would cost a query per list. rows_together reads them all in one UNION ALL and hands each list
back as its model's instances, in its queryset's order, with the related rows its
select_related names (one level) attached, as if each queryset had been evaluated alone.

The branches of a UNION must agree on the type of every column, so each branch puts a field in
the column kept for that field's database type and NULL (cast to that type) in the columns it
has nothing for. prefetched() stores a list where a related manager's .all() finds it, so code
that asks invoice.lines.all() gets the rows read here without another query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.models import F, Field, Model, QuerySet, Value, Window
from django.db.models.functions import Cast, RowNumber

# Which branch a row came from and its place in that branch's order.
_BRANCH, _POSITION = "row_branch", "row_position"


def rows_together(querysets: Sequence[QuerySet[Any]]) -> list[list[Any]]:
    """Each queryset's rows, read in one query. The querysets filter and order one model each
    and may select_related foreign keys of that model (not deeper, not reverse)."""
    connection = connections[querysets[0].db]
    plans = [_plan(queryset) for queryset in querysets]
    # Per branch, the column of each of its paths: the n-th field of a type goes in that
    # type's n-th column.
    spots: list[dict[str, _Spot]] = []
    samples: dict[_Type, Field[Any, Any]] = {}
    for plan in plans:
        seen: dict[_Type, int] = {}
        spot = {}
        for path, field in _columns(plan):
            key = _type_key(field, connection)
            spot[path] = (key, seen.get(key, 0))
            seen[key] = seen.get(key, 0) + 1
            samples.setdefault(key, field)
        spots.append(spot)
    columns = sorted({s for spot in spots for s in spot.values()})
    name = {s: f"c{number}" for number, s in enumerate(columns)}

    branches = []
    for index, (queryset, spot) in enumerate(zip(querysets, spots, strict=True)):
        path_of = {s: path for path, s in spot.items()}
        order: list[Any] = [
            (F(key[1:]).desc() if key.startswith("-") else F(key).asc())
            if isinstance(key, str)
            else key
            for key in (queryset.query.order_by or queryset.model._meta.ordering or ["pk"])
        ]
        selected: dict[str, Any] = {
            _BRANCH: Value(index),
            _POSITION: Window(RowNumber(), order_by=order),
        }
        for s in columns:
            selected[name[s]] = (
                F(path_of[s]) if s in path_of else Cast(Value(None), output_field=samples[s[0]])
            )
        branches.append(queryset.order_by().values(**selected))

    rows = branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]
    found: list[list[tuple[int, Any]]] = [[] for _ in querysets]
    for row in rows:
        index = row[_BRANCH]
        values = {path: row[name[s]] for path, s in spots[index].items()}
        found[index].append((row[_POSITION], _build(plans[index], values)))
    return [
        [item for _position, item in sorted(items, key=lambda pair: pair[0])] for items in found
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
