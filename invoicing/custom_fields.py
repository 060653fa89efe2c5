"""Custom invoice fields: what a customer wants on each of its invoices (a purchase-order
number, a cost centre), defined per customer, filled on the invoice form, copied onto the
invoice with their headings, printed and returned by the API.

One home for the rule: invoice_create and invoice_update call custom_values_check, so no path
saves an invoice while a required field is empty or a value is not one of those allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from garage.models import Customer
from invoicing.models import CustomInvoiceField, Invoice

MAX_VALUE_LENGTH = 100


def form_key(field_id: int) -> str:
    """The field's name on the invoice form, and the key of its error."""
    return f"custom_{field_id}"


def custom_fields_for(*, customer: Customer | int | None) -> QuerySet[CustomInvoiceField]:
    if customer is None:
        return CustomInvoiceField.objects.none()
    return CustomInvoiceField.objects.filter(customer=customer, is_active=True)


def custom_values_check(
    *, customer: Customer, values: Mapping[int, str] | None
) -> list[dict[str, Any]]:
    """The invoice's custom_fields from `values` (field id -> text), or ValidationError keyed by
    form_key for a required field left empty or a value not allowed."""
    values = values or {}
    errors: dict[str, list[str]] = {}
    filled: list[dict[str, Any]] = []
    for field in custom_fields_for(customer=customer):
        value = (values.get(field.pk) or "").strip()
        key = form_key(field.pk)
        if not value:
            if field.required:
                errors[key] = [_("Fill in “%(heading)s”: this customer needs it on every invoice.")
                               % {"heading": field.heading}]  # fmt: skip
            continue
        if len(value) > MAX_VALUE_LENGTH:
            errors[key] = [_("At most %(count)d characters.") % {"count": MAX_VALUE_LENGTH}]
        elif field.allowed_values and value not in field.allowed_values:
            errors[key] = [_("Choose one of: %(values)s.")
                           % {"values": ", ".join(field.allowed_values)}]  # fmt: skip
        filled.append({"field": field.pk, "heading_en": field.heading_en,
                       "heading_ar": field.heading_ar, "value": value})  # fmt: skip
    if errors:
        raise ValidationError(errors)
    return filled


def custom_values_of(*, invoice: Invoice) -> dict[int, str]:
    """The values an invoice holds, by field id: what a reissue or the edit form starts from."""
    return {row["field"]: row["value"] for row in invoice.custom_fields if row.get("field")}


def allowed_values_clean(raw: Any) -> list[str]:
    """Allowed values as distinct, non-empty texts, or ValidationError."""
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise ValidationError(_("Give the allowed values as a list of texts."))
    cleaned: list[str] = []
    for value in (v.strip() for v in raw):
        if len(value) > MAX_VALUE_LENGTH:
            raise ValidationError(_("At most %(count)d characters.") % {"count": MAX_VALUE_LENGTH})
        if value and value not in cleaned:
            cleaned.append(value)
    return cleaned


def custominvoicefield_save(*, field: CustomInvoiceField) -> CustomInvoiceField:
    """Save a field's definition; allowed values are a list of distinct, non-empty texts."""
    try:
        field.allowed_values = allowed_values_clean(field.allowed_values or [])
    except ValidationError as exc:
        raise ValidationError({"allowed_values": exc.messages}) from exc
    field.heading_en, field.heading_ar = field.heading_en.strip(), field.heading_ar.strip()
    field.full_clean()
    field.save()
    return field
