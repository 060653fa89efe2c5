"""Keyset pages for the list pages: a page starts after (or ends before) the row a cursor names.

A page reads per_page + 1 rows from where the cursor points, through the index on the list's
ordering, so a deep page costs what the first page costs: no OFFSET reading through the skipped
rows, and no COUNT of the whole result, only one capped at COUNT_CAP (shown as "10,000+").

The ordering is the queryset's own (the selector's), made unique with the primary key when its
last field is not unique. The cursor is signed: a tampered, stale or foreign one gives the first
page, never an error.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar, overload

from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db import connections
from django.db.models import F, Field, IntegerField, Model, Q, QuerySet
from django.db.models.expressions import OrderBy, RawSQL
from django.db.models.lookups import IsNull
from django.db.models.sql.where import AND, WhereNode
from django.http import HttpRequest

M = TypeVar("M", bound=Model)

# Counting stops here: reading 10,001 index entries costs a few milliseconds at any table size.
COUNT_CAP = 10_000
CURSOR_PARAM = "cursor"
_SALT = "core.paging"
_AFTER, _BEFORE = "a", "b"


@dataclass(frozen=True)
class _Key:
    field: Field
    descending: bool
    # Whether the rows paged can hold NULL here: the column allows it and the queryset does
    # not filter it out.
    nullable: bool

    @property
    def name(self) -> str:
        return self.field.attname

    def order(self, *, reverse: bool) -> OrderBy:
        # NULL sorts as the greatest value, as PostgreSQL sorts it by default (and so its
        # indexes), spelt out so SQLite sorts the same way.
        nulls = self.nullable
        if self.descending != reverse:
            return F(self.name).desc(nulls_first=nulls or None)
        return F(self.name).asc(nulls_last=nulls or None)

    def beyond(self, value: Any, *, ascending: bool) -> Q:
        """Rows whose value comes after `value` when walking the ordering `ascending`ly."""
        if ascending:
            if value is None:
                return Q(pk__in=[])
            later = Q(**{f"{self.name}__gt": value})
            return later | Q(**{f"{self.name}__isnull": True}) if self.nullable else later
        if value is None:
            return Q(**{f"{self.name}__isnull": False})
        return Q(**{f"{self.name}__lt": value})

    def equal(self, value: Any) -> Q:
        return Q(**{f"{self.name}__isnull": True} if value is None else {self.name: value})

    def bound(self, value: Any, *, ascending: bool) -> Q | None:
        """The same condition as a plain range on this column, which an index scan can start
        from, or None where NULLs would make it an OR."""
        if value is None or (ascending and self.nullable):
            return None
        return Q(**{f"{self.name}__{'gte' if ascending else 'lte'}": value})


def _keys(queryset: QuerySet[Any]) -> list[_Key]:
    query = queryset.query
    ordering = query.order_by or (query.get_meta().ordering if query.default_ordering else None)
    ordering = ordering or ()
    opts = queryset.model._meta
    keys = []
    for item in ordering:
        if not isinstance(item, str):
            raise ImproperlyConfigured(f"Keyset paging orders by field names, not {item!r}.")
        name = item.removeprefix("-")
        try:
            field = opts.pk if name == "pk" else opts.get_field(name)
        except FieldDoesNotExist:
            raise ImproperlyConfigured(f"Keyset paging needs {name!r} on the model.") from None
        if not field.concrete or field.is_relation:
            raise ImproperlyConfigured(f"Keyset paging orders by own columns, not {name!r}.")
        nullable = field.null and not _nulls_excluded(query.where, field)
        keys.append(_Key(field=field, descending=item.startswith("-"), nullable=nullable))
    if not keys or not (keys[-1].field.unique or keys[-1].field.primary_key):
        descending = bool(keys) and keys[-1].descending
        keys.append(_Key(field=opts.pk, descending=descending, nullable=False))
    return keys


def _nulls_excluded(where: WhereNode, field: Field) -> bool:
    """Whether the queryset's conditions include `field__isnull=False`.

    A NULL-free column is paged by a plain range the index scan starts from in both directions;
    a nullable one needs an OR with IS NULL one way, which makes PostgreSQL read from the end.
    """
    return (
        where.connector == AND
        and not where.negated
        and any(
            isinstance(child, IsNull)
            and child.rhs is False
            and getattr(child.lhs, "target", None) == field
            for child in where.children
        )
    )


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _after(keys: Sequence[_Key], values: Sequence[Any], *, reverse: bool) -> Q:
    """Rows beyond the cursor's `values` in the page order (or before them, `reverse`)."""
    condition = Q(pk__in=[])
    same = Q()
    for key, value in zip(keys, values, strict=True):
        condition |= same & key.beyond(value, ascending=key.descending == reverse)
        same &= key.equal(value)
    bound = keys[0].bound(values[0], ascending=keys[0].descending == reverse)
    return condition if bound is None else bound & condition


@dataclass(frozen=True)
class _Cursor:
    direction: str
    values: list[Any]
    # Where the page the cursor leads to starts, 1-based: for "26–50 of 10,000+".
    position: int


def _read_cursor(token: str | None, keys: Sequence[_Key]) -> _Cursor | None:
    if not token:
        return None
    try:
        data = signing.loads(token, salt=_SALT)
        direction, names, raw, position = data["d"], data["k"], data["v"], data["p"]
        if direction not in (_AFTER, _BEFORE) or names != [key.name for key in keys]:
            return None
        if not isinstance(position, int) or position < 1:
            return None
        if not isinstance(raw, list) or len(raw) != len(keys):
            return None
        values = [
            None if v is None else k.field.to_python(v) for k, v in zip(keys, raw, strict=True)
        ]
    except (signing.BadSignature, ValidationError, KeyError, TypeError, ValueError):
        return None
    return _Cursor(direction=direction, values=values, position=position)


def _make_cursor(keys: Sequence[_Key], row: Model, *, direction: str, position: int) -> str:
    return signing.dumps(
        {
            "d": direction,
            "k": [key.name for key in keys],
            "v": [_encode(getattr(row, key.name)) for key in keys],
            "p": position,
        },
        salt=_SALT,
    )


def capped_count(queryset: QuerySet[Any]) -> int:
    """How many rows `queryset` has, counted up to COUNT_CAP + 1 (more than the cap: "cap+")."""
    # COUNT over a LIMITed subquery: never reads more than cap + 1 index entries.
    return queryset.order_by().values("pk")[: COUNT_CAP + 1].count()


def capped_count_sql(queryset: QuerySet[Any], *, cap: int = COUNT_CAP + 1) -> RawSQL:
    """capped_count as an expression, so that a page reads several counts in one query."""
    limited = queryset.order_by().values("pk")[:cap]
    sql, params = limited.query.get_compiler(using=queryset.db).as_sql()
    # The SQL is the ORM's own compilation of the queryset, its values passed as parameters.
    return RawSQL(f"SELECT COUNT(*) FROM ({sql}) AS capped", params, IntegerField())  # noqa: S608,S611


def capped_counts(querysets: Sequence[QuerySet[Any]]) -> list[int]:
    """capped_count of each queryset, in one query instead of one each."""
    if not querysets:
        return []
    parts, params = [], []
    for queryset in querysets:
        expression = capped_count_sql(queryset)
        parts.append(f"({expression.sql})")
        params.extend(expression.params)
    with connections[querysets[0].db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return list(cursor.fetchone())


def total_text(count: int, *, cap: int | None = None) -> str:
    """A capped_count as pages show it, the same in both languages: 1,234 or 10,000+."""
    cap = COUNT_CAP if cap is None else cap
    if count > cap:
        return f"{cap:,}+"
    return f"{count:,}"


class KeysetPage(Sequence[M]):
    """One page of rows with the cursors of its neighbours and the capped count of them all."""

    def __init__(
        self,
        rows: list[M],
        *,
        start: int,
        count: int,
        next_cursor: str,
        previous_cursor: str,
        cap: int,
    ) -> None:
        self.object_list = rows
        self.start = start
        self._count, self._cap = count, cap
        self.total = min(count, cap)
        self.total_capped = count > cap
        self.next_cursor = next_cursor
        self.previous_cursor = previous_cursor

    @overload
    def __getitem__(self, index: int) -> M: ...
    @overload
    def __getitem__(self, index: slice) -> list[M]: ...
    def __getitem__(self, index: int | slice) -> M | list[M]:
        return self.object_list[index]

    def __len__(self) -> int:
        return len(self.object_list)

    def __iter__(self) -> Iterator[M]:
        return iter(self.object_list)

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_cursor)

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def end(self) -> int:
        return self.start + len(self.object_list) - 1

    @property
    def total_text(self) -> str:
        return total_text(self._count, cap=self._cap)


def keyset_page(
    request: HttpRequest,
    queryset: QuerySet[M],
    *,
    per_page: int,
    count: int | None = None,
    cap: int | None = None,
) -> KeysetPage[M]:
    """The page of `queryset` that the request's ?cursor= names, or the first page; `count` is
    its capped_count when the page has read it already (with others, capped_counts). A list
    whose count is shown beside a badge is counted up to the badge's `cap` ("100+") instead."""
    cap = COUNT_CAP if cap is None else cap
    keys = _keys(queryset)
    cursor = _read_cursor(request.GET.get(CURSOR_PARAM), keys)
    total = _Total(queryset, count, cap)
    rows, more = _read(queryset, keys, cursor, per_page, total)
    if cursor is not None and cursor.direction == _BEFORE and not more:
        if len(rows) == per_page:
            # Walked back to the start: the first page, and the cursor's row follows it.
            cursor, more = None, True
        else:
            # Rows before the cursor were deleted: the first page, full, not a short one.
            cursor = None
            rows, more = _read(queryset, keys, None, per_page, total)
    elif cursor is not None and not rows:
        # Past the end of a list that shrank under the cursor: the first page, not an empty one.
        cursor = None
        rows, more = _read(queryset, keys, None, per_page, total)
    backward = cursor is not None and cursor.direction == _BEFORE
    start = 1 if cursor is None else max(cursor.position, 2 if backward else 1)
    has_next = more if not backward else True
    has_previous = cursor is not None and (more if backward else True)
    return KeysetPage(
        rows,
        start=start,
        count=total.value(rows),
        next_cursor=(
            _make_cursor(keys, rows[-1], direction=_AFTER, position=start + len(rows))
            if has_next
            else ""
        ),
        previous_cursor=(
            _make_cursor(keys, rows[0], direction=_BEFORE, position=max(start - per_page, 1))
            if has_previous
            else ""
        ),
        cap=cap,
    )


# The attribute each row of a page carries its list's capped count in.
_TOTAL = "keyset_page_total"


class _Total:
    """The list's capped count: given, or read with the page's rows (one query, not two: the
    count is a subquery the database runs once)."""

    def __init__(self, queryset: QuerySet[Any], given: int | None, cap: int) -> None:
        self.queryset, self.given, self.cap = queryset, given, cap

    def annotated(self, rows: QuerySet[M]) -> QuerySet[M]:
        if self.given is not None:
            return rows
        return rows.annotate(**{_TOTAL: capped_count_sql(self.queryset, cap=self.cap + 1)})

    def value(self, rows: Sequence[Any]) -> int:
        if self.given is not None:
            return self.given
        # A page with no row is a first page (keyset_page reads one for a cursor that found
        # nothing): the list is empty.
        return getattr(rows[0], _TOTAL) if rows else 0


def _read(
    queryset: QuerySet[M],
    keys: Sequence[_Key],
    cursor: _Cursor | None,
    per_page: int,
    total: _Total,
) -> tuple[list[M], bool]:
    """The page's rows in page order, and whether more lie beyond them in the direction read."""
    backward = cursor is not None and cursor.direction == _BEFORE
    rows = total.annotated(queryset).order_by(*(key.order(reverse=backward) for key in keys))
    if cursor is not None:
        rows = rows.filter(_after(keys, cursor.values, reverse=backward))
    found = list(rows[: per_page + 1])
    more = len(found) > per_page
    found = found[:per_page]
    return (found[::-1] if backward else found), more
