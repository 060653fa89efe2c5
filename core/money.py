"""The one place where amounts, quantities and rates are parsed and rounded (design §6).

Money rounds half up to the halala, as ZATCA rounds; Python's round() would give banker's
rounding and float is inexact, so neither appears anywhere else.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

HALALA = Decimal("0.01")
_UNIT = Decimal("1")
_HUNDRED = Decimal("100")

DecimalLike = Decimal | int | str


def to_decimal(value: DecimalLike) -> Decimal:
    """Convert a Decimal, int or numeric string to a finite Decimal without rounding it."""
    # bool is an int subclass and float is inexact: neither can be an amount or a quantity.
    if isinstance(value, bool | float):
        raise TypeError(f"expected Decimal, int or str, got {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    else:
        raise TypeError(f"expected Decimal, int or str, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def to_money(value: DecimalLike) -> Decimal:
    """Round a value half up to the halala, returning a Decimal with exactly two places."""
    result = to_decimal(value).quantize(HALALA, rounding=ROUND_HALF_UP)
    # A tiny negative rounds to -0.00, which would print with a minus sign.
    return result.copy_abs() if result.is_zero() else result


def to_percent(rate: DecimalLike) -> Decimal:
    """A rate (0.15) as a percent with two places (15.00), rounded half up like money."""
    return to_money(to_decimal(rate) * _HUNDRED)


def to_plain(value: DecimalLike) -> Decimal:
    """Without trailing zeros (2.000 -> 2, 15.00 -> 15), never in exponent form."""
    # normalize() alone would turn 100 into 1E+2.
    value = to_decimal(value)
    return value.quantize(_UNIT) if value == value.to_integral() else value.normalize()


def plain_text(value: DecimalLike) -> str:
    """A quantity or rate as people write it: 20, 1.5, 0.001; never 2E+1 nor 1E-3."""
    return format(to_plain(value), "f")


def money_text(value: DecimalLike) -> str:
    """An amount with exactly two places (1234.50), rounded half up to the halala."""
    return format(to_money(value), "f")
