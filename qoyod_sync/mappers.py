"""Pure translation of our objects into what the Qoyod writer sends (no database, no HTTP).

Callers load the objects (with their related rows) and pass the Qoyod ids they already know.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import to_decimal, to_percent
from garage.models import Customer, ServiceItem, SparePart
from garage.tax import is_standard
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


def product_names(item: ServiceItem | SparePart) -> dict[str, str]:
    """The Arabic and English names Qoyod is given for a catalogue item."""
    # Qoyod requires the Arabic name; many catalogues only have English ones.
    name_ar, name_en = item.name_ar.strip(), item.name_en.strip()
    return {"name_ar": name_ar or name_en, "name_en": name_en or name_ar}


def zero_tax(catalogue: Mapping[str, Any], category: str) -> dict[str, Any] | None:
    """The tenant's 0% tax for a zero-rated (Z) or exempt (E) item: Qoyod accepts a product's
    reason only when the reason's category equals its tax's code (qoyod-openapi-v2.1.yaml)."""
    return next(
        (
            t
            for t in catalogue.get("taxes", [])
            if t.get("code") == category and to_decimal(t["percentage"]) == 0
        ),
        None,
    )


def tenant_reason(catalogue: Mapping[str, Any], code: str, category: str) -> dict[str, Any] | None:
    """The tenant's special tax reason for our VATEX code (ids differ between tenants)."""
    return next(
        (
            r
            for r in catalogue.get("special_tax_reasons", [])
            if r["code"] == code and r["category"] == category
        ),
        None,
    )


def product_tax(item: ServiceItem | SparePart, connection: QoyodConnection) -> dict[str, Any]:
    """The tax id and special tax reason id a new product is created with; pre-flight has
    checked that the tenant has both for a zero-rated or exempt item."""
    if is_standard(item.tax_category):
        return {"tax_id": connection.tax_id, "special_tax_reason_id": None}
    tax = zero_tax(connection.catalogue, item.tax_category)
    reason = tenant_reason(connection.catalogue, item.vat_exemption_code, item.tax_category)
    if tax is None or reason is None:
        raise ValueError(f"no Qoyod tax or reason for {item.vat_exemption_code}")
    return {"tax_id": tax["id"], "special_tax_reason_id": reason["id"]}


def service_product_fields(item: ServiceItem, connection: QoyodConnection) -> dict[str, Any]:
    """Keyword arguments for QoyodWriter.create_service_product (labour is an untracked Service)."""
    return {
        "sku": item.code,
        **product_names(item),
        "selling_price": item.default_price,
        # Labour has no purchase price, but a strict tenant refuses a product whose buying
        # price is not a number (qoyod-api.md §4.1).
        "buying_price": Decimal("0.00"),
        **product_tax(item, connection),
        "unit_id": connection.unit_id,
        "category_id": connection.category_id,
        "sales_account_id": connection.sales_account_id,
    }


def part_product_fields(part: SparePart, connection: QoyodConnection) -> dict[str, Any]:
    """Keyword arguments for QoyodWriter.create_stock_product (parts are stock-tracked)."""
    return {
        "sku": part.sku,
        **product_names(part),
        "selling_price": part.sale_price,
        "buying_price": part.cost,
        **product_tax(part, connection),
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
        # Qoyod takes a line's percentage only when positive; a zero-rated or exempt line takes
        # its product's 0% tax and reason instead (qoyod-openapi-v2.1.yaml, tax_percentage).
        tax_percent=to_percent(line.vat_rate) if line.is_standard_rated else None,
        discount_amount=line.discount,
        is_inclusive=line.price_includes_vat,
    )


def supply_date(invoice: Invoice) -> date:
    """When the work was done (ZATCA's supply date): the job's completion, else the issue date."""
    completed = invoice.job.completed_at
    return timezone.localdate(completed) if completed is not None else invoice.issue_date


def draft_invoice(
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    *,
    contact_id: int,
    product_ids: Mapping[ProductKey, int],
    inventory_id: int,
    payment_method: int | None,
) -> DraftInvoice:
    """The Draft sales invoice: our number as its reference, the vehicle in its description,
    and the supply date and payment method the accountant's Approve needs under ZATCA."""
    return DraftInvoice(
        contact_id=contact_id,
        reference=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        supply_date=supply_date(invoice),
        payment_method=payment_method,
        inventory_id=inventory_id,
        lines=tuple(draft_line(line, product_ids[product_key(line)]) for line in lines),
        description=invoice_description(invoice),
        notes=invoice.notes,
    )
