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
from qoyod_sync.models import QoyodInvoiceSync, SyncState

register = template.Library()

SEND = "qoyod_sync.send_invoice"


def _sync_for(context: template.Context, invoice: Invoice) -> QoyodInvoiceSync | None:
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


def display_state(invoice: Invoice, sync: QoyodInvoiceSync | None) -> str:
    """What the row shows: the sync state, with the invoice's own flags where no send happened."""
    if sync is None:
        if invoice.qoyod_managed:
            return SyncState.DRAFT_CREATED
        return SyncState.READY if invoice.requires_qoyod else SyncState.NOT_REQUIRED
    state = sync.effective_state
    if not invoice.requires_qoyod and state in (SyncState.READY, SyncState.FAILED):
        return SyncState.NOT_REQUIRED
    return state


@register.inclusion_tag("qoyod_sync/invoice_cell.html", takes_context=True)
def qoyod_cell(context: template.Context, invoice: Invoice) -> dict[str, Any]:
    sync = _sync_for(context, invoice)
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "invoice": invoice,
        "sync": sync,
        "state": display_state(invoice, sync),
        "can_send": bool(user and user.has_perm(SEND)) and invoice.status != Invoice.Status.VOID,
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
    can_send = user.has_perm(SEND)
    return {
        "visible": True,
        "invoice": invoice,
        "sync": sync,
        "state": display_state(invoice, sync),
        "fix": selectors.fix_link(sync) if sync and sync.failure_kind else None,
        "attempts": list(selectors.invoice_attempts(invoice=invoice)),
        "history": list(selectors.invoice_sync_history(sync=sync)) if sync else [],
        "can_delete_draft": (
            can_send
            and invoice.is_void
            and sync is not None
            and sync.state == SyncState.DRAFT_CREATED
            and sync.draft_deleted_at is None
        ),
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
    }
