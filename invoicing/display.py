"""An invoice's row of the list and its badges, formatted in Python.

The list draws 25 rows a page; built here, a row's cells cost a few format_html calls instead
of a template's filters and nested includes. The row template (partials/invoice_row.html) lays
the cells out; the invoice page shows the same badges.
"""

from __future__ import annotations

from typing import TypedDict

from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from core.html import markup, sentence
from core.html import trans as _
from core.reversing import reverse_cached
from core.templatetags.display import ltr, money
from invoicing.models import FinanceState, Invoice

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
        return SafeString("")
    return markup('<span class="badge {}" data-finance-state="{}">{}</span>', tone, state, text)


class InvoiceRow(TypedDict):
    """A row's cells, ready to print (a dict: the template engine reads a key first)."""

    pk: int
    void: bool
    url: str
    number: str
    issue_date: SafeString
    customer: SafeString
    plate: SafeString
    total: SafeString
    paid: SafeString
    balance: SafeString
    status: SafeString
    finance: SafeString


def invoice_row(invoice: Invoice) -> InvoiceRow:
    """The cells of `invoice`'s row of the list; the Qoyod column is qoyod_sync's."""
    if get_language() == "ar" and invoice.customer_name_ar:
        customer = markup('<span lang="ar">{}</span>', invoice.customer_name_ar)
    else:
        customer = conditional_escape(invoice.customer_name)
    return {
        "pk": invoice.pk,
        "void": invoice.is_void,
        "url": reverse_cached("invoicing:invoice_detail", invoice.pk),
        "number": invoice.number,
        "issue_date": ltr(date_format(invoice.issue_date, "SHORT_DATE_FORMAT")),
        "customer": customer,
        "plate": ltr(invoice.vehicle_plate),
        "total": ltr(money(invoice.total)),
        "paid": ltr(money(invoice.amount_paid)),
        "balance": ltr(money(invoice.balance)),
        "status": invoice_status_badge(invoice),
        "finance": invoice_finance_badge(invoice),
    }
