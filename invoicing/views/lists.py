"""The invoice list and the Needs Invoice tab."""

from __future__ import annotations

from django.contrib.auth.decorators import (
    permission_required,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.ids import parse_id
from core.paging import keyset_page
from invoicing import selectors
from invoicing.filters import InvoiceFilter

PAGE_SIZE = 25
BADGE_LIMIT = 100


@permission_required("invoicing.view_invoice", raise_exception=True)
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    invoice_filter = InvoiceFilter(request.GET, queryset=selectors.invoice_list(search=search))
    page = keyset_page(request, invoice_filter.qs, per_page=PAGE_SIZE)
    saved_pk = parse_id(request.GET.get("saved"))
    saved = None if saved_pk is None else selectors.invoice_list().filter(pk=saved_pk).first()
    return render(
        request,
        "invoicing/invoice_list.html",
        {
            "tab": "invoices",
            "filter": invoice_filter,
            "search": search,
            "page": page,
            "saved": saved,
        },
    )


@permission_required("invoicing.view_invoice", raise_exception=True)
@require_GET
def needs_invoice(request: HttpRequest) -> HttpResponse:
    if "badge" in request.GET:
        # The tab's badge, requested by htmx after a page has loaded so no page waits for it.
        count = selectors.jobs_needing_invoice_count(limit=BADGE_LIMIT)
        return render(
            request,
            "partials/invoice_needs_badge.html",
            {"needs_count": count, "needs_capped": count >= BADGE_LIMIT},
        )
    search = request.GET.get("q", "")
    jobs = selectors.jobs_needing_invoice(search=search)
    page = keyset_page(request, jobs, per_page=PAGE_SIZE)
    return render(
        request,
        "invoicing/needs_invoice.html",
        {
            "tab": "needs",
            "search": search,
            "page": page,
            # Unsearched, the page's own (capped) count is the badge; searched, the badge loads
            # itself.
            "needs_count": None if search else min(page.total, BADGE_LIMIT),
            "needs_capped": page.total >= BADGE_LIMIT,
        },
    )
