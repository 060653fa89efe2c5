from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from core.fields import MoneyField, MoneyFormField, QuantityField, QuantityFormField, RateField


@pytest.mark.parametrize(
    ("field", "digits", "places"),
    [(MoneyField(), 14, 2), (QuantityField(), 12, 3), (RateField(), 5, 4)],
)
def test_model_fields_deconstruct_as_the_decimal_field_migrations_were_written_with(
    field, digits, places
):
    _name, path, args, kwargs = field.deconstruct()
    assert path == "django.db.models.DecimalField"
    assert args == []
    assert kwargs == {"max_digits": digits, "decimal_places": places}


def test_model_field_keeps_its_other_options():
    field = MoneyField("paid", null=True, default=Decimal("0"))
    _name, _path, _args, kwargs = field.deconstruct()
    assert kwargs == {
        "verbose_name": "paid",
        "null": True,
        "default": Decimal("0"),
        "max_digits": 14,
        "decimal_places": 2,
    }
    assert isinstance(field, models.DecimalField)


def test_money_form_field_refuses_a_third_decimal_place():
    field = MoneyFormField()
    assert field.clean("12.50") == Decimal("12.50")
    with pytest.raises(ValidationError):
        field.clean("12.505")


def test_quantity_form_field_takes_three_places_and_refuses_four():
    field = QuantityFormField()
    assert field.clean("1.125") == Decimal("1.125")
    with pytest.raises(ValidationError):
        field.clean("1.1255")
