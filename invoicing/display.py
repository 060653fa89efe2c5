"""An invoice's row of the list and its badges, formatted in Python.

The list draws 25 rows a page; built here, a row costs a few markup calls instead of a
template's filters and nested includes (partials/invoice_row.html hands it the Qoyod column);
the invoice page shows the same badges.
"""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from core.html import markup, sentence
from core.html import trans as _
from core.reversing import reverse_cached
from core.templatetags.display import ltr, money
from invoicing.models import FinanceState, Invoice

_NOTHING = SafeString("")
_STATUS_TONES: dict[str, str] = {
    Invoice.Status.PAID: "text-bg-success",
    Invoice.Status.PARTIALLY_PAID: "text-bg-warning",
    Invoice.Status.VOID: "text-bg-dark",
}


def invoice_status_badge(invoice: Invoice) -> SafeString:
    """The business status: issued, partially paid, paid or void."""
    return markup(
        '<span class="badge {}" data-status="{}">{}</span>',
        _STATUS_TONES.get(invoice.status, "text-bg-primary"),
        invoice.status,
        invoice.status_label,
    )


def invoice_finance_badge(invoice: Invoice) -> SafeString:
    """Where the finance system stands with the invoice, once it has processed or failed it."""
    state = invoice.finance_state
    if state == FinanceState.PROCESSED:
        tone = "text-bg-success-subtle border border-success-subtle text-success-emphasis"
        text = sentence(
            _("Processed · <bdi>%(reference)s</bdi>"), reference=invoice.finance_reference
        )
    elif state == FinanceState.CANCELLED:
        tone = "text-bg-light border"
        text = sentence(
            _("Cancellation processed · <bdi>%(reference)s</bdi>"),
            reference=invoice.finance_cancel_reference,
        )
    elif state == FinanceState.FAILED:
        tone, text = "text-bg-danger", _("Finance failed")
    else:
        return _NOTHING
    return markup('<span class="badge {}" data-finance-state="{}">{}</span>', tone, state, text)


_ROW = """<tr id="invoice-row-{}"{}>
  <td class="text-nowrap"><a href="{}">{}</a></td>
  <td class="text-nowrap">{}</td>
  <td>{}</td>
  <td><span class="plate">{}</span></td>
  <td class="money">{}</td>
  <td class="money">{}</td>
  <td class="money">{}</td>
  <td class="text-nowrap">{} {}</td>
  <td class="invoice-qoyod">{}</td>
</tr>
"""


def invoice_row(invoice: Invoice, qoyod_cell: SafeString) -> SafeString:
    """The invoice's row of the list, with the Qoyod column the caller drew (qoyod_sync's
    qoyod_cell: invoicing does not import it, design.md §1)."""
    if get_language() == "ar" and invoice.customer_name_ar:
        customer = markup('<span lang="ar">{}</span>', invoice.customer_name_ar)
    else:
        customer = conditional_escape(invoice.customer_name)
    return markup(
        _ROW,
        invoice.pk,
        SafeString(' class="text-body-secondary"') if invoice.is_void else _NOTHING,
        reverse_cached("invoicing:invoice_detail", invoice.pk),
        invoice.number,
        ltr(date_format(invoice.issue_date, "SHORT_DATE_FORMAT")),
        customer,
        ltr(invoice.vehicle_plate),
        ltr(money(invoice.total)),
        ltr(money(invoice.amount_paid)),
        ltr(money(invoice.balance)),
        invoice_status_badge(invoice),
        invoice_finance_badge(invoice),
        qoyod_cell,
    )
