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

A row's payment state and Refresh from Qoyod are part of the Qoyod column (qoyod_tags.qoyod_cell).
"""

from __future__ import annotations

from typing import Any

from django import template

from core.paging import KeysetPage
from invoicing.models import Invoice
from qoyod_sync.status import Action, sync_for, sync_status
from qoyod_sync.templatetags.qoyod_tags import page_path

register = template.Library()


@register.inclusion_tag("qoyod_sync/refresh_header.html", takes_context=True)
def qoyod_refresh_header(context: template.Context, page: KeysetPage) -> dict[str, Any]:
    # Decided from the rows as loaded (their sync rows come with them), by the rule the
    # Refresh from Qoyod button follows, so the header costs no query.
    refreshable = [
        row.pk
        for row in page
        if isinstance(row, Invoice)
        and row.qoyod_managed
        and Action.REFRESH in sync_status(row, sync_for(row)).actions
    ]
    return {
        "refreshable": sorted(refreshable),
        "next": page_path(context.get("request")),
        "csrf_token": context.get("csrf_token"),
    }
