"""Pre-flight of a send: everything checked here, without any HTTP, before Qoyod is called."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.messages import Message
from garage.models import Customer, ServiceItem, SparePart
from invoicing.models import Invoice, InvoiceLine
from qoyod_sync.models import BranchWarehouse, FailureKind, QoyodConnection


@dataclass(frozen=True)
class Problem:
    kind: str
    message: Message


def invoice_preflight(
    *, invoice: Invoice, lines: Sequence[InvoiceLine], connection: QoyodConnection | None
) -> list[Problem]:
    """Everything that can be checked here before any call to Qoyod; [] when ready."""
    problems: list[Problem] = []
    if connection is None:
        return [Problem(FailureKind.NOT_CONNECTED, Message("preflight.connect_first"))]
    if connection.product_defaults_missing:
        problems.append(Problem(FailureKind.MAPPING_MISSING, Message("preflight.product_defaults")))
    if not BranchWarehouse.objects.filter(branch_id=invoice.branch_id).exists():
        problems.append(
            Problem(
                FailureKind.MAPPING_MISSING,
                Message("preflight.no_warehouse", branch=invoice.branch.name),
            )
        )
    missing = customer_missing_details(invoice.customer)
    if missing:
        problems.append(
            Problem(
                FailureKind.CUSTOMER_INCOMPLETE,
                Message("preflight.customer_missing", name=invoice.customer.name, fields=missing),
            )
        )
    problems.extend(_line_problems(lines))
    problems.extend(_total_problems(invoice, lines))
    problems.extend(_sku_problems(lines))
    return problems


def customer_missing_details(customer: Customer) -> list[Message]:
    """What Qoyod (and ZATCA, for a company) needs that the customer record lacks."""
    missing = []
    if not (customer.name_en or customer.name_ar):
        missing.append(Message("preflight.field.name"))
    if not customer.phone:
        missing.append(Message("preflight.field.mobile"))
    if customer.is_company:
        if not customer.vat_number:
            missing.append(Message("preflight.field.vat_number"))
        if not (
            customer.building_number and customer.street and customer.city and customer.postal_code
        ):
            missing.append(Message("preflight.field.address"))
    return missing


def _line_problems(lines: Sequence[InvoiceLine]) -> list[Problem]:
    if not lines:
        return [Problem(FailureKind.LINE_UNLINKED, Message("preflight.no_lines"))]
    problems = []
    for number, line in enumerate(lines, start=1):
        if line.item is None:
            problems.append(
                Problem(
                    FailureKind.LINE_UNLINKED,
                    Message("preflight.line_unlinked", n=number, text=line.description_en),
                )
            )
    return problems


def _total_problems(invoice: Invoice, lines: Sequence[InvoiceLine]) -> list[Problem]:
    net = sum((line.line_net for line in lines), Decimal("0"))
    vat = sum((line.line_vat for line in lines), Decimal("0"))
    broken = [line for line in lines if line.line_total != line.line_net + line.line_vat]
    if broken or (net, vat, net + vat) != (invoice.net_total, invoice.vat_total, invoice.total):
        return [
            Problem(
                FailureKind.TOTALS,
                Message(
                    "preflight.totals",
                    net=net,
                    vat=vat,
                    inv_net=invoice.net_total,
                    inv_vat=invoice.vat_total,
                ),
            )  # fmt: skip
        ]
    return []


def _sku_problems(lines: Sequence[InvoiceLine]) -> list[Problem]:
    # Qoyod SKUs are unique across all products, so a service code that is also a part number
    # would make both our items one Qoyod product.
    codes = {line.service_item.code for line in lines if line.service_item is not None}
    part_skus = {line.spare_part.sku for line in lines if line.spare_part is not None}
    clashes = codes & set(SparePart.objects.filter(sku__in=codes).values_list("sku", flat=True))
    clashes |= part_skus & set(
        ServiceItem.objects.filter(code__in=part_skus).values_list("code", flat=True)
    )
    return [
        Problem(FailureKind.SKU_TAKEN, Message("preflight.sku_clash", sku=sku))
        for sku in sorted(clashes)
    ]
