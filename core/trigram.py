"""Trigram GIN indexes for the search boxes, created on PostgreSQL only.

`core.search` matches substrings: `icontains` is `UPPER(col::text) LIKE UPPER('%text%')` and
`contains` is `col::text LIKE '%text%'` on PostgreSQL. A B-tree cannot serve a leading
wildcard; a pg_trgm GIN index on the same expression can, so each search reads the index instead
of every row. SQLite has no pg_trgm and, holding a branch's data at most, does not need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import migrations

# The lookup each column is searched with: UPPER for icontains, the bare column for contains.
ICONTAINS = "icontains"
CONTAINS = "contains"


# fastupdate off: new rows go straight into the index instead of a pending list that every
# search must read through (and the planner prices in) until the next vacuum. Rows are added at
# the pace of a garage's counter, where the slower insert costs nothing noticeable.


def index_name(table: str, column: str) -> str:
    return f"{table}_{column}_trgm"[:63]


def _expression(column: str, lookup: str) -> str:
    # The expression must be the one Django's lookup writes, or the planner cannot match it.
    return f'UPPER("{column}"::text)' if lookup == ICONTAINS else f'("{column}"::text)'


def trigram_indexes(table: str, columns: Sequence[tuple[str, str]]) -> migrations.RunPython:
    """A migration operation adding a trigram index per (column, lookup) on PostgreSQL."""

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column, lookup in columns:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{index_name(table, column)}" ON "{table}" '
                f"USING gin ({_expression(column, lookup)} gin_trgm_ops) WITH (fastupdate = off)"
            )

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for column, _lookup in columns:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{index_name(table, column)}"')

    return migrations.RunPython(create, drop, elidable=False)
