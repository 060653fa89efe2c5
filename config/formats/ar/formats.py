"""The same output formats as English (config/formats/en): Arabic's default spells the month
and mixes scripts, and writes decimals with a comma, which lists and history would show
differently from the English page."""

from config.formats.en.formats import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    DECIMAL_SEPARATOR,
    MONTH_DAY_FORMAT,
    SHORT_DATE_FORMAT,
    SHORT_DATETIME_FORMAT,
    THOUSAND_SEPARATOR,
    YEAR_MONTH_FORMAT,
)

__all__ = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "DECIMAL_SEPARATOR",
    "MONTH_DAY_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "THOUSAND_SEPARATOR",
    "YEAR_MONTH_FORMAT",
]
