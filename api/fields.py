"""Serializer fields for money: a decimal string with exactly two places, in and out.

In, an amount must be a string or an integer (a JSON float is inexact before we see it), with at
most two decimals and not negative; out, it is quantised by core.money.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import to_decimal, to_money, to_plain

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": MONEY_PATTERN, "example": "1150.00"}
)
class MoneyField(serializers.Field):
    default_error_messages = {
        "invalid": _('Send an amount as a string such as "12.50".'),
        "float": _(
            'Send the amount as a string such as "12.50", not a JSON number with a fraction.'
        ),
        "places": _("An amount has at most two decimal places."),
        "negative": _("An amount cannot be negative."),
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, float):
            self.fail("float")
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        try:
            value = to_decimal(data)
        except ValueError:
            self.fail("invalid")
        if value.as_tuple().exponent < -2:  # type: ignore[operator]
            self.fail("places")
        if value < 0:
            self.fail("negative")
        return to_money(value)

    def to_representation(self, value: Decimal) -> str:
        return str(to_money(value))


@extend_schema_field({"type": "string", "format": "decimal", "example": "0.15"})
class PlainDecimalField(serializers.Field):
    """A quantity (1.5) or a VAT rate (0.15) as a decimal string without trailing zeros."""

    def to_representation(self, value: Decimal) -> str:
        return str(to_plain(value))


# More than zero, at most two decimals, at most 15 characters (so a JSON Schema generator and
# the field agree on what is valid).
AMOUNT_PATTERN = r"^([0-9]*[1-9][0-9]*(\.[0-9]{1,2})?|[0-9]+\.([0-9][1-9]|[1-9][0-9]?))$"


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": AMOUNT_PATTERN,
        "maxLength": 15,
        "example": "1150.00",
    }
)
class AmountField(MoneyField):
    """A payment amount in: a MoneyField that is more than zero."""

    default_error_messages = {
        "zero": _("The amount must be more than zero."),
        "large": _("The amount is too large."),
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, str) and len(data) > 15:
            self.fail("large")
        value = super().to_internal_value(data)
        if value == 0:
            self.fail("zero")
        if value >= 10**15:
            self.fail("large")
        return value


# Visible ASCII with inner spaces: the references of finance systems, and nothing a database or
# a log line could mangle.
REFERENCE_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]{0,98}[\x21-\x7e])?$"


def reference_field(help_text: StrOrPromise) -> serializers.RegexField:
    return serializers.RegexField(
        REFERENCE_PATTERN,
        max_length=100,
        help_text=help_text,
        error_messages={"invalid": _("Use letters, digits and ASCII signs (at most 100).")},
    )
