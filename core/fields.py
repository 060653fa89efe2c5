"""The column and input types of amounts, quantities, VAT rates and typed dates, declared once.

The model fields deconstruct as plain DecimalField with the same digits, so migrations stay as
they were written and switching a column to one of these generates no AlterField.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY_DIGITS, MONEY_PLACES = 14, 2
QUANTITY_DIGITS, QUANTITY_PLACES = 12, 3
RATE_DIGITS, RATE_PLACES = 5, 4
# The dates a workshop types (issue, due and payment dates) fall in this system's era and at
# most a year ahead. A typo such as year 1 would otherwise be stored and break every later use:
# the ZATCA QR timestamp of 0001-01-01 in UTC is before the first date Python can represent.
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE_AHEAD = datetime.timedelta(days=366)


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


class BoundedDateFormField(forms.DateField):
    """A date typed on a form, from EARLIEST_DATE to LATEST_DATE_AHEAD after today."""

    def validate(self, value: datetime.date | None) -> None:
        super().validate(value)
        if value is None:
            return
        latest = timezone.localdate() + LATEST_DATE_AHEAD
        if not EARLIEST_DATE <= value <= latest:
            raise ValidationError(
                _("Enter a date between %(earliest)s and %(latest)s."),
                code="date_out_of_range",
                params={"earliest": EARLIEST_DATE.isoformat(), "latest": latest.isoformat()},
            )
