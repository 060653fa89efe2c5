"""Pure translation of our objects into what the Qoyod writer sends (no database, no HTTP).

Callers load the objects (with their related rows) and pass the Qoyod ids they already know.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from core.money import to_percent
from garage.models import Customer, ServiceItem, SparePart
from invoicing.models import Invoice, InvoiceLine
from qoyod_sync.models import QoyodConnection
from qoyod_sync.types import Address, DraftInvoice, DraftLine

# Qoyod takes tax as a percentage with at most two decimals (qoyod-api.md §5.1).


@dataclass(frozen=True)
class ProductKey:
    """Which of our catalogue items a Qoyod product stands for."""

    kind: str  # InvoiceLine.Kind
    pk: int


def line_item(line: InvoiceLine) -> ServiceItem | SparePart:
    """The catalogue item of a line being sent; preflight refuses a send with a line without one."""
    item = line.item
    if item is None:
        raise ValueError(f"invoice line {line.pk} is linked to no service or part")
    return item


def product_key(line: InvoiceLine) -> ProductKey:
    return ProductKey(kind=line.kind, pk=line_item(line).pk)


def product_sku(item: ServiceItem | SparePart) -> str:
    """A service's code or a part's number: the SKU that finds it in Qoyod."""
    return item.code if isinstance(item, ServiceItem) else item.sku


def customer_fields(customer: Customer) -> dict[str, Any]:
    """Keyword arguments for QoyodWriter.create_customer."""
    name = customer.name_en or customer.name_ar
    fields: dict[str, Any] = {
        "name": name,
        "phone_number": customer.phone,
        "email": customer.email,
        "tax_number": customer.vat_number,
    }
    if customer.is_company:
        fields["organization"] = name
        # The national address ZATCA needs on a company's tax invoice (qoyod-api.md §3.1).
        fields["billing_address"] = Address(
            street=customer.street,
            city=customer.city,
            state=customer.district,
            zip_code=customer.postal_code,
            country="SA",
            building_number=customer.building_number,
        )
    return fields


def _names(item: ServiceItem | SparePart) -> dict[str, str]:
    # Qoyod requires the Arabic name; many catalogues only have English ones.
    return {"name_ar": item.name_ar or item.name_en, "name_en": item.name_en or item.name_ar}


def service_product_fields(item: ServiceItem, connection: QoyodConnection) -> dict[str, Any]:
    """Keyword arguments for QoyodWriter.create_service_product (labour is an untracked Service)."""
    return {
        "sku": item.code,
        **_names(item),
        "selling_price": item.default_price,
        "tax_id": connection.tax_id,
        "unit_id": connection.unit_id,
        "category_id": connection.category_id,
        "sales_account_id": connection.sales_account_id,
    }


def part_product_fields(part: SparePart, connection: QoyodConnection) -> dict[str, Any]:
    """Keyword arguments for QoyodWriter.create_stock_product (parts are stock-tracked)."""
    return {
        "sku": part.sku,
        **_names(part),
        "selling_price": part.sale_price,
        "buying_price": part.cost,
        "tax_id": connection.tax_id,
        "unit_id": connection.unit_id,
        "category_id": connection.category_id,
        "sales_account_id": connection.sales_account_id,
        "cogs_account_id": connection.cogs_account_id,
    }


def invoice_description(invoice: Invoice) -> str:
    """The vehicle and plate the accountant sees on the draft in Qoyod, with our job number."""
    return _("%(vehicle)s, plate %(plate)s, job %(job)s") % {
        "vehicle": invoice.vehicle_description,
        "plate": invoice.vehicle_plate,
        "job": invoice.job.number,
    }


def draft_line(line: InvoiceLine, product_id: int) -> DraftLine:
    description = line.description_en
    if line.description_ar and line.description_ar != line.description_en:
        description = f"{line.description_en} / {line.description_ar}"
    return DraftLine(
        product_id=product_id,
        quantity=line.quantity,
        unit_price=line.unit_price,
        description=description,
        tax_percent=to_percent(line.vat_rate),
        discount_amount=line.discount,
        is_inclusive=line.price_includes_vat,
    )


def draft_invoice(
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    *,
    contact_id: int,
    product_ids: Mapping[ProductKey, int],
    inventory_id: int,
) -> DraftInvoice:
    """The Draft sales invoice: our number as its reference, the vehicle in its description."""
    return DraftInvoice(
        contact_id=contact_id,
        reference=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        inventory_id=inventory_id,
        lines=tuple(draft_line(line, product_ids[product_key(line)]) for line in lines),
        description=invoice_description(invoice),
        notes=invoice.notes,
    )
