"""The slice of Ransack (`q[...]` filters and `q[s]` sorting) and will_paginate Qoyod exposes."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from qoyod_sync.sandbox.records import ApiError

# Longest first, so "not_eq" wins over "eq" and "gteq" over "gt".
PREDICATES = ("not_eq", "gteq", "lteq", "start", "null", "cont", "end", "eq", "gt", "lt", "in")
_KEY = re.compile(r"^q\[([a-z0-9_]+)\](\[\])?$")

Attributes = Mapping[str, Callable[[Any], Any]]


@dataclass
class Query:
    filters: list[tuple[str, str, Any]] = field(default_factory=list)
    sort: tuple[str, bool] | None = None
    page: int | None = None
    per_page: int | None = None


def parse_query(pairs: Sequence[tuple[str, str]]) -> Query:
    query = Query()
    lists: dict[str, list[str]] = {}
    for key, value in pairs:
        if key in ("page", "per_page"):
            number = int(value) if value.strip().isdigit() else None
            setattr(query, key, number)
            continue
        match = _KEY.match(key)
        if match is None:
            continue
        name, is_list = match.group(1), match.group(2)
        if name == "s":
            attribute, _, direction = value.strip().partition(" ")
            query.sort = (attribute, direction.strip().lower() == "desc")
        elif is_list:
            lists.setdefault(name, []).append(value)
        else:
            query.filters.append((*_split(name), value))
    for name, values in lists.items():
        query.filters.append((*_split(name), values))
    return query


def _split(name: str) -> tuple[str, str]:
    for predicate in PREDICATES:
        if name.endswith("_" + predicate):
            return name[: -len(predicate) - 1], predicate
    return name, ""


def apply(rows: list[Any], query: Query, attributes: Attributes, *, strict: bool) -> list[Any]:
    """Filter and sort; unknown attributes are ignored as Qoyod does, or refused when strict."""
    for attribute, predicate, value in query.filters:
        getter = attributes.get(attribute)
        if getter is None or not predicate:
            if strict:
                raise ApiError(
                    400, {"error": f"Sandbox strict mode: unknown filter {attribute}_{predicate}"}
                )
            continue
        rows = [row for row in rows if _matches(getter(row), predicate, value)]
    if query.sort is not None:
        attribute, descending = query.sort
        getter = attributes.get(attribute)
        if getter is not None:
            rows = sorted(rows, key=lambda row: _sort_key(getter(row)), reverse=descending)
        elif strict:
            raise ApiError(400, {"error": f"Sandbox strict mode: unknown sort {attribute}"})
    return rows


def paginate(
    rows: list[Any], query: Query, *, default: int = 100, maximum: int = 1000
) -> tuple[list[Any], dict[str, int]]:
    """will_paginate: page (1-based) and per_page, capped (qoyod-api.md §15.14)."""
    per_page = min(max(query.per_page or default, 1), maximum)
    page = max(query.page or 1, 1)
    start = (page - 1) * per_page
    chunk = rows[start : start + per_page]
    total_pages = max(1, -(-len(rows) // per_page))
    meta = {
        "count": len(chunk),
        "total": len(rows),
        "perPage": per_page,
        "currentPage": page,
        "totalPages": total_pages,
    }
    return chunk, meta


def _matches(actual: Any, predicate: str, expected: Any) -> bool:
    if predicate == "null":
        wanted = str(expected).lower() in ("1", "true")
        return (actual in (None, "")) == wanted
    if predicate == "in":
        values = expected if isinstance(expected, list) else [expected]
        return any(_equal(actual, value) for value in values)
    if isinstance(expected, list):
        return False
    if predicate == "eq":
        return _equal(actual, expected)
    if predicate == "not_eq":
        return not _equal(actual, expected)
    if actual is None:
        return False
    if predicate in ("cont", "start", "end"):
        # Ransack's cont/start/end use ILIKE-style matching: case-insensitive.
        text, part = str(actual).casefold(), str(expected).casefold()
        return {"cont": part in text, "start": text.startswith(part), "end": text.endswith(part)}[
            predicate
        ]
    coerced = _coerce(actual, expected)
    if coerced is None:
        return False
    return {
        "gt": actual > coerced,
        "gteq": actual >= coerced,
        "lt": actual < coerced,
        "lteq": actual <= coerced,
    }[predicate]


def _equal(actual: Any, expected: Any) -> bool:
    coerced = _coerce(actual, expected)
    return coerced is not None and actual == coerced


def _coerce(actual: Any, expected: Any) -> Any:
    """The query string as the attribute's own type; None when it cannot be one."""
    text = str(expected).strip()
    try:
        if isinstance(actual, bool):
            return text.lower() in ("1", "true")
        if isinstance(actual, int):
            return int(text)
        if isinstance(actual, Decimal):
            return Decimal(text)
    except (ValueError, InvalidOperation):
        return None
    return str(expected)


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value)
