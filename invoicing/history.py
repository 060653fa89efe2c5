"""What an edit changed on an invoice: compared as data, stored as data, shown in any language.

An "edited" InvoiceEvent's details are
    {"fields": [{"field": name, "before": value, "after": value}, ...],
     "lines_added": [line, ...], "lines_removed": [line, ...],
     "lines_changed": [{"description", "description_ar", "fields": [...]}, ...]}
where a line is {"description", "description_ar", "quantity", "unit_price"}, field names are
Invoice / InvoiceLine field names, dates are ISO strings and amounts decimal strings. An
"emailed" event's details are {"recipient": address}.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.money import plain_text
from invoicing.models import Invoice, InvoiceLine

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# What the printed invoice shows above its lines; the customer and vehicle are compared through
# their snapshot, which is what changes on paper when another customer or vehicle is chosen.
HEADER_FIELDS = (
    "customer_name",
    "customer_name_ar",
    "customer_phone",
    "customer_vat_number",
    "customer_address",
    "vehicle_description",
    "vehicle_plate",
    "issue_date",
    "due_date",
    "requires_qoyod",
    "notes",
    "total",
)
LINE_FIELDS = (
    "description_en",
    "description_ar",
    "quantity",
    "unit_price",
    "discount",
    "price_includes_vat",
    "vat_rate",
)

LineKey = tuple[str, int | None]


@dataclass(frozen=True)
class EditSnapshot:
    """An invoice's header values and lines, each line keyed by its kind and item."""

    header: dict[str, Any]
    lines: list[tuple[LineKey, dict[str, Any]]]


def edit_snapshot(*, invoice: Invoice) -> EditSnapshot:
    """The values an edit may change, with the lines read from the database."""
    lines = InvoiceLine.objects.filter(invoice=invoice).order_by("position", "id")
    return EditSnapshot(
        header={name: getattr(invoice, name) for name in HEADER_FIELDS},
        lines=[
            (
                (line.kind, line.service_item_id or line.spare_part_id),
                {name: getattr(line, name) for name in LINE_FIELDS},
            )
            for line in lines
        ],
    )


def _stored(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _differences(
    names: tuple[str, ...], before: dict[str, Any], after: dict[str, Any]
) -> list[dict[str, Any]]:
    # Compared as values, so 3 and 3.000 are the same quantity.
    return [
        {"field": name, "before": _stored(before[name]), "after": _stored(after[name])}
        for name in names
        if before[name] != after[name]
    ]


def _line_summary(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": values["description_en"],
        "description_ar": values["description_ar"],
        "quantity": _stored(values["quantity"]),
        "unit_price": _stored(values["unit_price"]),
    }


def edit_changes(*, before: EditSnapshot, after: EditSnapshot) -> dict[str, Any]:
    """The details of an "edited" event; empty when the edit changed nothing."""
    # Lines are rewritten on every save, so a line is matched by its kind and item (the first
    # unmatched one, when the same item is on two lines), not by its row.
    unmatched = list(before.lines)
    added, changed = [], []
    for key, values in after.lines:
        match = next((i for i, (old_key, _old) in enumerate(unmatched) if old_key == key), None)
        if match is None:
            added.append(_line_summary(values))
            continue
        _key, old = unmatched.pop(match)
        if differences := _differences(LINE_FIELDS, old, values):
            changed.append(
                {
                    "description": values["description_en"],
                    "description_ar": values["description_ar"],
                    "fields": differences,
                }
            )
    details = {
        "fields": _differences(HEADER_FIELDS, before.header, after.header),
        "lines_added": added,
        "lines_removed": [_line_summary(values) for _key, values in unmatched],
        "lines_changed": changed,
    }
    return details if any(details.values()) else {}


# Display: labels and values in the reader's language, from the stored data.


@dataclass(frozen=True)
class FieldChange:
    label: StrOrPromise
    before: object
    after: object


@dataclass(frozen=True)
class LineSummary:
    description: str
    quantity: str
    unit_price: str


@dataclass(frozen=True)
class LineChange:
    description: str
    changes: list[FieldChange]


@dataclass(frozen=True)
class EditDisplay:
    fields: list[FieldChange]
    lines_added: list[LineSummary]
    lines_removed: list[LineSummary]
    lines_changed: list[LineChange]


def _shown(field: models.Field, value: Any) -> object:
    if isinstance(field, models.BooleanField):
        return _("Yes") if value else _("No")
    if isinstance(field, models.DateField) and value:
        return datetime.date.fromisoformat(value)
    if field.name == "vat_rate":
        return f"{plain_text(Decimal(value) * 100)}%"
    if field.name == "quantity":
        return plain_text(value)
    return value


def _changes(model: type[models.Model], rows: list[dict[str, Any]]) -> list[FieldChange]:
    changes = []
    for row in rows:
        field = model._meta.get_field(row["field"])
        assert isinstance(field, models.Field)
        changes.append(
            FieldChange(
                label=capfirst(field.verbose_name),
                before=_shown(field, row["before"]),
                after=_shown(field, row["after"]),
            )
        )
    return changes


def _description(row: dict[str, Any]) -> str:
    if get_language() == "ar" and row.get("description_ar"):
        return row["description_ar"]
    return row["description"]


def _lines(rows: list[dict[str, Any]]) -> list[LineSummary]:
    return [
        LineSummary(
            description=_description(row),
            quantity=plain_text(row["quantity"]),
            unit_price=row["unit_price"],
        )
        for row in rows
    ]


def edit_display(details: dict[str, Any]) -> EditDisplay:
    """An "edited" event's details with labels and values ready for the page."""
    return EditDisplay(
        fields=_changes(Invoice, details.get("fields", [])),
        lines_added=_lines(details.get("lines_added", [])),
        lines_removed=_lines(details.get("lines_removed", [])),
        lines_changed=[
            LineChange(description=_description(row), changes=_changes(InvoiceLine, row["fields"]))
            for row in details.get("lines_changed", [])
        ],
    )
