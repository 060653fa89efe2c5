"""Template tags through which invoice pages show Qoyod state without invoicing importing us.

{% load qoyod_tags %}
{% qoyod_cell invoice %}            the Qoyod column of a row (and the invoice header)
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

from core.paging import KeysetPage
from invoicing.models import Invoice
from invoicing.whatsapp import whatsapp_url
from payments.models import QoyodPaymentState
from qoyod_sync import selectors
from qoyod_sync.models import QoyodConnection, QoyodInvoiceSync
from qoyod_sync.services import connection_get
from qoyod_sync.status import Action, qoyod_standing, sync_status
from qoyod_sync.views import tax_invoice_link

register = template.Library()

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


def sync_for(context: template.Context, invoice: Invoice) -> QoyodInvoiceSync | None:
    """The invoice's sync row (None if it has none); readback's tags use it too."""
    # On a list page the whole page's rows are loaded in one query on the first cell, so the
    # list costs the same number of queries for 1 row as for 50.
    page = context.get("page")
    if isinstance(page, KeysetPage) and all(isinstance(row, Invoice) for row in page):
        cache = getattr(page, "_qoyod_syncs", None)
        if cache is None:
            ids = {row.pk for row in page}
            # Kept on the page object, so it lives exactly as long as the page being rendered.
            cache = page._qoyod_syncs = (ids, selectors.syncs_by_invoice(ids))  # type: ignore[attr-defined]
        ids, rows = cache
        if invoice.pk in ids:
            return rows.get(invoice.pk)
    return QoyodInvoiceSync.objects.filter(invoice_id=invoice.pk).first()


def payment_state_for(context: template.Context, invoice: Invoice) -> QoyodPaymentState | None:
    """The invoice's read-back Qoyod state (None if never read); readback's tags use it too."""
    # On a list page the states of all its rows load in one query, on the first Qoyod row, so
    # the page costs the same number of queries for 1 row as for 50.
    page = context.get("page")
    if isinstance(page, KeysetPage):
        cache = getattr(page, "_qoyod_payment_states", None)
        if cache is None:
            ids = {row.pk for row in page if isinstance(row, Invoice)}
            rows = QoyodPaymentState.objects.filter(invoice_id__in=ids)
            # Kept on the page object, so it lives exactly as long as the page being rendered.
            cache = page._qoyod_payment_states = (ids, {s.invoice_id: s for s in rows})  # type: ignore[attr-defined]
        ids, states = cache
        if invoice.pk in ids:
            return states.get(invoice.pk)
    return QoyodPaymentState.objects.filter(invoice_id=invoice.pk).first()


def _connection(context: template.Context) -> QoyodConnection | None:
    # One query per page however many rows link to Qoyod.
    request = context.get("request")
    if request is None:
        return connection_get()
    if not hasattr(request, "_qoyod_connection"):
        request._qoyod_connection = connection_get()
    return request._qoyod_connection


def _standing(
    context: template.Context, invoice: Invoice, sync: QoyodInvoiceSync | None
) -> dict[str, Any]:
    payment = payment_state_for(context, invoice) if invoice.qoyod_managed else None
    standing = qoyod_standing(invoice, sync, payment)
    url = ""
    if standing is not None and sync is not None and sync.qoyod_invoice_id is not None:
        connection = _connection(context)
        url = connection.invoice_url(sync.qoyod_invoice_id) if connection is not None else ""
    return {"standing": standing, "qoyod_url": url, "payment": payment}


@register.inclusion_tag("qoyod_sync/invoice_cell.html", takes_context=True)
def qoyod_cell(context: template.Context, invoice: Invoice) -> dict[str, Any]:
    sync = sync_for(context, invoice)
    status = sync_status(invoice, sync)
    request = context.get("request")
    user = getattr(request, "user", None)
    allowed = bool(user and user.has_perm(SEND))
    return {
        "invoice": invoice,
        "sync": sync,
        "state": status.state,
        "can_send": allowed and status.can_send,
        "can_retry": allowed and status.can_retry,
        # Inside a list row the buttons swap the row by htmx; elsewhere they post and redirect.
        "in_row": isinstance(context.get("page"), KeysetPage) or bool(context.get("qoyod_row")),
        "next": page_path(request),
        "message": context.get("qoyod_message", ""),
        "message_ok": context.get("qoyod_ok", False),
        "csrf_token": context.get("csrf_token"),
        **_standing(context, invoice, sync),
    }


@register.inclusion_tag("qoyod_sync/invoice_panel.html", takes_context=True)
def qoyod_invoice_panel(context: template.Context, invoice: Invoice) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("qoyod_sync.view_qoyodattempt"):
        return {"visible": False}
    sync = (
        QoyodInvoiceSync.objects.filter(invoice=invoice).select_related("last_attempt_by").first()
    )
    status = sync_status(invoice, sync)
    return {
        "visible": True,
        "invoice": invoice,
        "sync": sync,
        "state": status.state,
        "fix": selectors.fix_link(sync) if sync and sync.failure_kind else None,
        "attempts": list(selectors.invoice_attempts(invoice=invoice)),
        "history": list(selectors.invoice_sync_history(sync=sync)) if sync else [],
        "can_delete_draft": user.has_perm(SEND) and Action.DELETE_DRAFT in status.actions,
        "can_sync_stock": user.has_perm(SEND)
        and invoice.lines.filter(spare_part__isnull=False).exists(),
        "adjustments": list(selectors.stock_adjustments(invoice=invoice)),
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
    standing = _standing(context, invoice, sync_for(context, invoice))["standing"]
    if standing is None or standing.code not in _TAX_INVOICE_ISSUED:
        return {"url": ""}
    return {"url": whatsapp_url(invoice=invoice, link=tax_invoice_link(request, invoice))}
