"""Pre-flight of a send: everything checked here, without any HTTP, before Qoyod is called."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from garage.models import Customer, ServiceItem, SparePart
from invoicing.models import Invoice, InvoiceLine
from qoyod_sync.models import BranchWarehouse, FailureKind, QoyodConnection


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str


def invoice_preflight(
    *, invoice: Invoice, lines: Sequence[InvoiceLine], connection: QoyodConnection | None
) -> list[Problem]:
    """Everything that can be checked here before any call to Qoyod; [] when ready."""
    problems: list[Problem] = []
    if connection is None:
        return [Problem(FailureKind.NOT_CONNECTED, _("Connect Qoyod in Settings → Qoyod first."))]
    if connection.product_defaults_missing:
        problems.append(
            Problem(
                FailureKind.MAPPING_MISSING,
                _("Choose the tax, unit and category for new products in the Qoyod settings."),
            )
        )
    if not BranchWarehouse.objects.filter(branch_id=invoice.branch_id).exists():
        problems.append(
            Problem(
                FailureKind.MAPPING_MISSING,
                _("Branch %(branch)s has no Qoyod warehouse: choose one in the Qoyod settings.")
                % {"branch": invoice.branch.name},
            )
        )
    missing = customer_missing_details(invoice.customer)
    if missing:
        problems.append(
            Problem(
                FailureKind.CUSTOMER_INCOMPLETE,
                _("Customer %(name)s is missing: %(fields)s.")
                % {"name": invoice.customer.name, "fields": ", ".join(missing)},
            )
        )
    problems.extend(_line_problems(lines))
    problems.extend(_total_problems(invoice, lines))
    problems.extend(_sku_problems(lines))
    return problems


def customer_missing_details(customer: Customer) -> list[str]:
    """What Qoyod (and ZATCA, for a company) needs that the customer record lacks."""
    missing = []
    if not (customer.name_en or customer.name_ar):
        missing.append(_("name"))
    if not customer.phone:
        missing.append(_("mobile"))
    if customer.is_company:
        if not customer.vat_number:
            missing.append(_("VAT number"))
        if not (
            customer.building_number and customer.street and customer.city and customer.postal_code
        ):
            missing.append(_("national address (building number, street, city, postal code)"))
    return missing


def _line_problems(lines: Sequence[InvoiceLine]) -> list[Problem]:
    if not lines:
        return [Problem(FailureKind.LINE_UNLINKED, _("The invoice has no lines."))]
    problems = []
    for number, line in enumerate(lines, start=1):
        if line.item is None:
            problems.append(
                Problem(
                    FailureKind.LINE_UNLINKED,
                    _(
                        "Line %(n)d (%(text)s) is no longer linked to a service or part: edit "
                        "the invoice and choose one."
                    )
                    % {"n": number, "text": line.description_en},
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
                _(
                    "The lines add up to %(net)s + %(vat)s VAT, but the invoice says %(inv_net)s "
                    "+ %(inv_vat)s: open the invoice and save it again."
                )
                % {
                    "net": net,
                    "vat": vat,
                    "inv_net": invoice.net_total,
                    "inv_vat": invoice.vat_total,
                },
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
        Problem(
            FailureKind.SKU_TAKEN,
            _("%(sku)s is both a service code and a part number; rename one of them.")
            % {"sku": sku},
        )
        for sku in sorted(clashes)
    ]
