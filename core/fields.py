"""The column and input types of amounts, quantities and VAT rates, declared once.

The model fields deconstruct as plain DecimalField with the same digits, so migrations stay as
they were written and switching a column to one of these generates no AlterField.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.db import models

MONEY_DIGITS, MONEY_PLACES = 14, 2
QUANTITY_DIGITS, QUANTITY_PLACES = 12, 3
RATE_DIGITS, RATE_PLACES = 5, 4


class _FixedDecimalField(models.DecimalField):
    max_digits_fixed: int
    decimal_places_fixed: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["max_digits"] = self.max_digits_fixed
        kwargs["decimal_places"] = self.decimal_places_fixed
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


class MoneyField(_FixedDecimalField):
    """An amount in SAR to the halala."""

    max_digits_fixed, decimal_places_fixed = MONEY_DIGITS, MONEY_PLACES


class QuantityField(_FixedDecimalField):
    """A quantity of a service or part, to the thousandth (litres of oil, metres of hose)."""

    max_digits_fixed, decimal_places_fixed = QUANTITY_DIGITS, QUANTITY_PLACES


class RateField(_FixedDecimalField):
    """A VAT rate as a fraction: 0.15 is 15 %."""

    max_digits_fixed, decimal_places_fixed = RATE_DIGITS, RATE_PLACES


class MoneyFormField(forms.DecimalField):
    """An amount typed on a form, with the digits a MoneyField stores."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


class QuantityFormField(forms.DecimalField):
    """A quantity typed on a form, with the digits a QuantityField stores."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, **kwargs)
