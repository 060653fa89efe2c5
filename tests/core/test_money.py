from __future__ import annotations

from decimal import Decimal

import pytest

from core.money import HALALA, to_decimal, to_money, to_percent, to_plain


def test_halala_is_one_hundredth():
    assert str(HALALA) == "0.01"
    assert HALALA.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # round() is banker's rounding and float is inexact: both give 0.02 and 2.67 here.
        ("0.025", "0.03"),
        ("2.675", "2.68"),
        ("0.015", "0.02"),
        ("0.0149", "0.01"),
        ("-0.025", "-0.03"),
        ("7", "7.00"),
        ("  12.5 ", "12.50"),
        ("1E+2", "100.00"),
    ],
)
def test_to_money_rounds_half_up(value, expected):
    result = to_money(value)
    assert result == Decimal(expected)
    assert str(result) == expected


def test_to_money_differs_from_builtin_round():
    assert round(Decimal("0.025"), 2) == Decimal("0.02")
    assert to_money(Decimal("0.025")) == Decimal("0.03")
    assert to_money(Decimal("2.675")) == Decimal("2.68")


def test_to_money_accepts_decimal_int_and_str():
    assert str(to_money(Decimal("114.994"))) == "114.99"
    assert str(to_money(15)) == "15.00"
    assert str(to_money("99.995")) == "100.00"


def test_to_money_never_returns_negative_zero():
    assert str(to_money("-0.001")) == "0.00"


@pytest.mark.parametrize("value", [0.1, 2.675, True, None, [1]])
def test_to_money_rejects_float_and_other_types(value):
    with pytest.raises(TypeError):
        to_money(value)


@pytest.mark.parametrize("value", ["", "abc", "1,000.00", "NaN", "Infinity"])
def test_to_money_rejects_non_numbers(value):
    with pytest.raises(ValueError):
        to_money(value)


def test_to_decimal_keeps_every_place():
    assert to_decimal("1.125") == Decimal("1.125")
    assert str(to_decimal("1.125")) == "1.125"
    assert to_decimal(3) == Decimal(3)


def test_to_decimal_rejects_float():
    with pytest.raises(TypeError, match="float"):
        to_decimal(1.5)


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("0.15", "15.00"), ("0", "0.00"), ("0.0575", "5.75"), ("0.12345", "12.35")],
)
def test_to_percent_gives_two_places_half_up(rate, expected):
    assert str(to_percent(Decimal(rate))) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.000", "2"), ("100", "100"), ("15.00", "15"), ("1.250", "1.25"), ("0.000", "0")],
)
def test_to_plain_drops_trailing_zeros_without_exponent(value, expected):
    assert str(to_plain(Decimal(value))) == expected
