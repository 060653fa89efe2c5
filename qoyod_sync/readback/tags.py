"""Template tags through which invoice pages show and refresh Qoyod payment state.

invoicing imports nothing from qoyod_sync (design.md §1); its templates load these tags, as they
load qoyod_tags for the Qoyod column. The library is registered as `qoyod_refresh` in
settings.TEMPLATES (a tag library outside a templatetags package is only found that way).

{% load qoyod_refresh %}
{% qoyod_refresh_header page %}   Refresh Qoyod for the visible rows, and the status line. Once
                                  the page has loaded, the line posts the visible rows to
                                  readback.views.refresh_stale, which queues those not checked
                                  within QOYOD_REFRESH_STALE_MINUTES and answers with the line
                                  that polls until their background refresh has finished.
                                  Rendering writes nothing: a GET never writes.
{% qoyod_payment_cell invoice %}  Qoyod status, paid, last refreshed and Refresh from Qoyod.
"""

from __future__ import annotations

from typing import Any

from django import template

from core.paging import KeysetPage
from invoicing.models import Invoice
from qoyod_sync.readback import fetch
from qoyod_sync.status import Action, sync_status
from qoyod_sync.templatetags.qoyod_tags import page_path, payment_state_for, sync_for

register = template.Library()


@register.inclusion_tag("qoyod_sync/refresh_header.html", takes_context=True)
def qoyod_refresh_header(context: template.Context, page: KeysetPage) -> dict[str, Any]:
    # Only Qoyod-managed rows can need a read: a page without any costs no query.
    ids = [row.pk for row in page if isinstance(row, Invoice) and row.qoyod_managed]
    return {
        "refreshable": sorted(fetch.refreshable_targets(ids)) if ids else [],
        "next": page_path(context.get("request")),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("qoyod_sync/payment_cell.html", takes_context=True)
def qoyod_payment_cell(context: template.Context, invoice: Invoice) -> dict[str, Any]:
    if not invoice.qoyod_managed:
        return {"visible": False}
    state = payment_state_for(context, invoice)
    if invoice.is_void and state is None:
        return {"visible": False}
    request = context.get("request")
    return {
        "visible": True,
        "invoice": invoice,
        "state": state,
        "pending": state is not None and state.is_pending,
        "can_refresh": Action.REFRESH in sync_status(invoice, sync_for(context, invoice)).actions,
        # Inside a list row the button swaps the row by htmx; elsewhere it posts and redirects.
        "in_row": isinstance(context.get("page"), KeysetPage) or bool(context.get("qoyod_row")),
        "next": page_path(request),
        "message": context.get("qoyod_refresh_message", ""),
        "message_ok": context.get("qoyod_refresh_ok", False),
        "csrf_token": context.get("csrf_token"),
    }
