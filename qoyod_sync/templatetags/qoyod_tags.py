"""Template tags through which invoice pages show Qoyod state without invoicing importing us.

{% load qoyod_tags %}
{% qoyod_cell invoice %}            the Qoyod column of a row (and the invoice header)
{% qoyod_invoice_panel invoice %}   sync state, reason, attempt log on the invoice page
"""

from __future__ import annotations

from typing import Any

from django import template
from django.core.paginator import Page

from invoicing.models import Invoice
from qoyod_sync import selectors
from qoyod_sync.models import QoyodInvoiceSync
from qoyod_sync.status import Action, sync_status

register = template.Library()

SEND = "qoyod_sync.send_invoice"


def sync_for(context: template.Context, invoice: Invoice) -> QoyodInvoiceSync | None:
    """The invoice's sync row (None if it has none); readback's tags use it too."""
    # On a list page the whole page's rows are loaded in one query on the first cell, so the
    # list costs the same number of queries for 1 row as for 50.
    page = context.get("page")
    if isinstance(page, Page) and all(isinstance(row, Invoice) for row in page):
        cache = getattr(page, "_qoyod_syncs", None)
        if cache is None:
            ids = {row.pk for row in page}
            # Kept on the page object, so it lives exactly as long as the page being rendered.
            cache = page._qoyod_syncs = (ids, selectors.syncs_by_invoice(ids))  # type: ignore[attr-defined]
        ids, rows = cache
        if invoice.pk in ids:
            return rows.get(invoice.pk)
    return QoyodInvoiceSync.objects.filter(invoice_id=invoice.pk).first()


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
        "in_row": isinstance(context.get("page"), Page),
        "next": request.get_full_path() if request else "",
        "message": context.get("qoyod_message", ""),
        "message_ok": context.get("qoyod_ok", False),
        "csrf_token": context.get("csrf_token"),
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
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
    }
