"""Pre-flight of a send: everything checked here, without any HTTP, before Qoyod is called."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.messages import Message
from garage.models import Customer, ServiceItem, SparePart
from garage.tax import is_standard
from invoicing.models import Invoice, InvoiceLine
from qoyod_sync import mappers
from qoyod_sync.models import BranchWarehouse, FailureKind, QoyodConnection, QoyodProductLink

# ZATCA BT-153: an item name has at least 3 characters; Qoyod enforces it on Phase-2 tenants
# (qoyod-openapi-v2.1.yaml ProductInput name/en_name minLength).
MIN_PRODUCT_NAME = 3


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
    problems.extend(strict_tenant_problems(invoice=invoice, lines=lines, connection=connection))
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


def strict_tenant_problems(
    *, invoice: Invoice, lines: Sequence[InvoiceLine], connection: QoyodConnection
) -> list[Problem]:
    """What a strict Qoyod tenant needs to create our products and to let the accountant
    approve the draft under ZATCA Phase 2 (qoyod-api.md §4.1, §5.1, §10.5)."""
    return [
        *_product_account_problems(lines, connection),
        *_approval_problems(invoice, connection),
        *_product_name_problems(lines),
        *vat_category_problems(lines=lines, connection=connection),
    ]


def _unlinked_items(lines: Sequence[InvoiceLine]) -> list[ServiceItem | SparePart]:
    """The catalogue items of the lines that the send may have to create in Qoyod."""
    items: dict[tuple[str, int], ServiceItem | SparePart] = {}
    for line in lines:
        if line.item is not None:
            items.setdefault((line.kind, line.item.pk), line.item)
    service_ids = [pk for kind, pk in items if kind == InvoiceLine.Kind.SERVICE]
    part_ids = [pk for kind, pk in items if kind == InvoiceLine.Kind.PART]
    linked = {
        (InvoiceLine.Kind.SERVICE, pk)
        for pk in QoyodProductLink.objects.filter(service_item_id__in=service_ids).values_list(
            "service_item_id", flat=True
        )
    } | {
        (InvoiceLine.Kind.PART, pk)
        for pk in QoyodProductLink.objects.filter(spare_part_id__in=part_ids).values_list(
            "spare_part_id", flat=True
        )
    }
    return [item for key, item in items.items() if key not in linked]


def _product_account_problems(
    lines: Sequence[InvoiceLine], connection: QoyodConnection
) -> list[Problem]:
    # Only items Qoyod may not have yet: a linked product keeps the accounts it was made with.
    unlinked = _unlinked_items(lines)
    problems = []
    if unlinked and connection.sales_account_id is None:
        problems.append(
            Problem(
                FailureKind.MAPPING_MISSING,
                Message("preflight.sales_account", items=[item.name for item in unlinked]),
            )
        )
    parts = [item for item in unlinked if isinstance(item, SparePart)]
    if parts and connection.cogs_account_id is None:
        problems.append(
            Problem(
                FailureKind.MAPPING_MISSING,
                Message("preflight.cogs_account", parts=[part.name for part in parts]),
            )
        )
    return problems


def _approval_problems(invoice: Invoice, connection: QoyodConnection) -> list[Problem]:
    # The supply date always has a value (mappers.supply_date); the payment method is a choice.
    if connection.payment_method is None:
        return [
            Problem(
                FailureKind.MAPPING_MISSING,
                Message("preflight.payment_method", number=invoice.number),
            )
        ]
    return []


def _product_name_problems(lines: Sequence[InvoiceLine]) -> list[Problem]:
    problems = []
    seen: set[tuple[str, int]] = set()
    for line in lines:
        item = line.item
        if item is None or (line.kind, item.pk) in seen:
            continue
        seen.add((line.kind, item.pk))
        names = mappers.product_names(item)
        for language, key in (
            ("preflight.language.ar", "name_ar"),
            ("preflight.language.en", "name_en"),
        ):
            if len(names[key]) < MIN_PRODUCT_NAME:
                problems.append(
                    Problem(
                        FailureKind.REJECTED_PRODUCT,
                        Message(
                            "preflight.product_name_short",
                            what=Message(
                                "step.part" if isinstance(item, SparePart) else "step.service"
                            ),
                            ref=mappers.product_sku(item),
                            language=Message(language),
                            name=names[key],
                            minimum=MIN_PRODUCT_NAME,
                        ),
                    )
                )
    return problems


def vat_category_problems(
    *, lines: Sequence[InvoiceLine], connection: QoyodConnection
) -> list[Problem]:
    """What would make Qoyod refuse or mis-tax a line's VAT: a standard item at 0% (Qoyod wants a
    ZATCA reason for any 0% supply), a line whose category the catalogue no longer has, and a
    zero-rated or exempt item the tenant has no 0% tax or reason for."""
    problems = []
    missing_tax: dict[str, list[str]] = {}
    seen: set[tuple[str, int]] = set()
    for number, line in enumerate(lines, start=1):
        item = line.item
        if item is None:
            continue
        if line.is_standard_rated and not line.vat_rate:
            problems.append(
                Problem(
                    FailureKind.REJECTED_VAT,
                    Message("preflight.standard_at_zero", n=number, item=line.description_en),
                )
            )
        if (line.tax_category, line.vat_exemption_code) != (
            item.tax_category,
            item.vat_exemption_code,
        ):
            problems.append(
                Problem(
                    FailureKind.REJECTED_VAT,
                    Message(
                        "preflight.category_changed",
                        n=number,
                        item=line.description_en,
                        line_category=line.tax_category,
                        item_category=item.tax_category,
                    ),
                )
            )
        if is_standard(item.tax_category) or (line.kind, item.pk) in seen:
            continue
        seen.add((line.kind, item.pk))
        if mappers.zero_tax(connection.catalogue, item.tax_category) is None:
            missing_tax.setdefault(item.tax_category, []).append(item.name)
        if (
            mappers.tenant_reason(connection.catalogue, item.vat_exemption_code, item.tax_category)
            is None
        ):
            problems.append(
                Problem(
                    FailureKind.MAPPING_MISSING,
                    Message(
                        "preflight.reason_missing", reason=item.vat_exemption_code, item=item.name
                    ),
                )  # fmt: skip
            )
    for category, names in missing_tax.items():
        problems.append(
            Problem(
                FailureKind.MAPPING_MISSING,
                Message(
                    "preflight.zero_tax_missing",
                    category=category,
                    items=names,
                ),
            )
        )
    return problems
