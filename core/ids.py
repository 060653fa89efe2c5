"""Record ids read from query strings, where anything at all can arrive."""

from __future__ import annotations

# The largest value of a 64-bit id column (BigAutoField), on every database this runs on.
MAX_ID = 2**63 - 1


def parse_id(value: str | None) -> int | None:
    """The id `value` spells in ASCII digits, or None if it spells none a row can have.

    Not str.isdigit() alone: it also accepts "²", which int() refuses, and ids beyond 64 bits
    make SQLite raise OverflowError in the lookups Django does not range-check (foreign keys, in).
    """
    if not value or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None
