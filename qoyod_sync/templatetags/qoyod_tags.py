"""Template tags through which invoice pages show Qoyod state without invoicing importing us.

{% load qoyod_tags %}
{% qoyod_cell invoice in_row=True %} the Qoyod column of a row ({% qoyod_cell invoice %}: the
                                    invoice header)
{% qoyod_invoice_panel invoice %}   sync state, reason, attempt log on the invoice page
{% qoyod_whatsapp invoice %}        Send on WhatsApp with Qoyod's tax invoice, once approved there
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString

from core.reversing import reverse_cached
from invoicing.models import Invoice
from invoicing.whatsapp import whatsapp_url
from qoyod_sync import selectors
from qoyod_sync.cell import Cell, CellForm, cell_html
from qoyod_sync.display import qoyod_words
from qoyod_sync.models import QoyodConnection, QoyodInvoiceSync
from qoyod_sync.status import Action, payment_state_for, qoyod_standing, sync_for, sync_status
from qoyod_sync.views import tax_invoice_link

register = template.Library()
register.simple_tag(qoyod_words, name="qoyod_words")

SEND = "qoyod_sync.send_invoice"


def page_path(request: HttpRequest | None) -> str:
    """The page the user is on, for a form's next=; readback's tags use it too.

    An htmx request draws a row of a page it is not: its own URL is a POST-only action, so the
    page comes from HX-Current-URL (only if it is ours), else the invoice list. So does a
    refused form's POST that draws its page again: the page is the `next` it was posted with.
    """
    if request is None:
        return ""
    if request.headers.get("HX-Request") != "true":
        posted = request.POST.get("next", "") if request.method == "POST" else ""
        if posted and url_has_allowed_host_and_scheme(
            posted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return posted
        return request.get_full_path()
    current = request.headers.get("HX-Current-URL", "")
    if url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return reverse("invoicing:invoice_list")


def _connection(context: template.Context) -> QoyodConnection | None:
    # One query per page however many rows link to Qoyod.
    return selectors.request_connection(context.get("request"))


def _standing(
    context: template.Context, invoice: Invoice, sync: QoyodInvoiceSync | None
) -> dict[str, Any]:
    payment = payment_state_for(invoice) if invoice.qoyod_managed else None
    standing = qoyod_standing(invoice, sync, payment)
    url = ""
    if standing is not None and sync is not None and sync.qoyod_invoice_id is not None:
        connection = _connection(context)
        url = connection.invoice_url(sync.qoyod_invoice_id) if connection is not None else ""
    return {"standing": standing, "qoyod_url": url, "payment": payment}


def _cell_page(request: HttpRequest | None) -> tuple[bool, str]:
    """Whether the user may send, and the page the forms return to: the same for every row of
    a page, so read once per request."""
    if request is None:
        return False, ""
    if not hasattr(request, "_qoyod_cell_page"):
        user = getattr(request, "user", None)
        allowed = bool(user and user.has_perm(SEND))
        request._qoyod_cell_page = (allowed, page_path(request))  # type: ignore[attr-defined]
    return request._qoyod_cell_page  # type: ignore[attr-defined]


@register.simple_tag(takes_context=True)
def qoyod_cell(context: template.Context, invoice: Invoice, in_row: bool = False) -> SafeString:
    """The Qoyod column of a row (in_row: its buttons swap the row, id invoice-row-<pk>, by
    htmx) and of the invoice header: the sync state and its actions, then the payment state
    read back from Qoyod with Refresh from Qoyod, all from the invoice's loaded rows."""
    sync = sync_for(invoice)
    status = sync_status(invoice, sync)
    request = context.get("request")
    allowed, next_path = _cell_page(request)
    standing = _standing(context, invoice, sync)
    payment = standing["payment"]
    can_send, can_retry = allowed and status.can_send, allowed and status.can_retry
    csrf_token = context.get("csrf_token")

    def form(url_name: str) -> CellForm:
        url = reverse_cached(url_name, invoice.pk)
        return CellForm(url, in_row, invoice.pk, csrf_token, next_path)

    return cell_html(
        Cell(
            invoice=invoice,
            sync=sync,
            state=status.state,
            standing=standing["standing"],
            qoyod_url=standing["qoyod_url"],
            payment=payment,
            send=form("qoyod_sync:invoice_send" if can_send else "qoyod_sync:invoice_retry")
            if can_send or can_retry
            else None,
            can_send=can_send,
            message=context.get("qoyod_message") or "",
            message_ok=bool(context.get("qoyod_ok")),
            # The read-back part: only a managed invoice has one, and a void one only once read.
            show_payment=invoice.qoyod_managed and not (invoice.is_void and payment is None),
            pending=payment is not None and payment.is_pending,
            refresh=form("qoyod_sync:invoice_refresh")
            if Action.REFRESH in status.actions
            else None,
            refresh_message=context.get("qoyod_refresh_message") or "",
            refresh_ok=bool(context.get("qoyod_refresh_ok")),
        )
    )


@register.inclusion_tag("qoyod_sync/invoice_panel.html", takes_context=True)
def qoyod_invoice_panel(context: template.Context, invoice: Invoice) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("qoyod_sync.view_qoyodattempt"):
        return {"visible": False}
    sync = sync_for(invoice)
    status = sync_status(invoice, sync)
    log = selectors.invoice_log(invoice=invoice, sync=sync)
    return {
        "visible": True,
        "invoice": invoice,
        "sync": sync,
        "state": status.state,
        "fix": selectors.fix_link(sync) if sync and sync.failure_kind else None,
        "attempts": log.attempts,
        "history": log.history,
        "can_delete_draft": user.has_perm(SEND) and Action.DELETE_DRAFT in status.actions,
        # From the lines the invoice page has loaded.
        "can_sync_stock": user.has_perm(SEND)
        and any(line.spare_part_id is not None for line in invoice.lines.all()),
        "adjustments": log.adjustments,
        "next": page_path(request),
        "csrf_token": context.get("csrf_token"),
        **_standing(context, invoice, sync),
    }


# Qoyod issues the tax invoice once the draft is approved; before that there is none to send.
_TAX_INVOICE_ISSUED = frozenset({"approved", "partially_paid", "paid"})


@register.inclusion_tag("qoyod_sync/whatsapp_button.html", takes_context=True)
def qoyod_whatsapp(context: template.Context, invoice: Invoice) -> dict[str, Any]:
    """The customer's chat with a link to Qoyod's own tax invoice, not our job summary."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if (
        request is None
        or user is None
        or not user.has_perm("invoicing.send_invoice_to_customer")
        or not invoice.qoyod_managed
        or invoice.is_void
        or not invoice.customer_phone
    ):
        return {"url": ""}
    standing = _standing(context, invoice, sync_for(invoice))["standing"]
    if standing is None or standing.code not in _TAX_INVOICE_ISSUED:
        return {"url": ""}
    return {"url": whatsapp_url(invoice=invoice, link=tax_invoice_link(request, invoice))}
