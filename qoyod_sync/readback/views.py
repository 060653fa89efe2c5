"""Refresh from Qoyod (a row, now), Refresh Qoyod (the visible rows, in the background), the
stale-row check the invoices page posts once it has loaded, and the poll through which the page
picks up rows a background refresh has finished.

Reads only, so whoever may see invoices may refresh them. Thin: parse, call one function, render.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from core.http import AuthenticatedHttpRequest
from core.ids import parse_id
from invoicing import selectors as invoice_selectors
from invoicing.models import Invoice
from qoyod_sync import tasks
from qoyod_sync.readback import fetch

VIEW = "invoicing.view_invoice"
# More than a page of invoices; the ids come from the page, this only bounds a forged request.
MAX_IDS = 200


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _ids(values: Iterable[str]) -> list[int]:
    ids = {pk for pk in map(parse_id, values) if pk is not None}
    return sorted(ids)[:MAX_IDS]


def _redirect_back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return redirect(target)


@require_POST
@permission_required(VIEW, raise_exception=True)
def invoice_refresh(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    outcome = fetch.invoice_refresh_now(invoice=invoice, user=request.user)
    if _is_htmx(request):
        invoice.refresh_from_db()
        return render(
            request,
            "partials/invoice_row.html",
            {
                "invoice": invoice,
                "qoyod_refresh_message": outcome.message,
                "qoyod_refresh_ok": outcome.ok,
            },
        )
    level = messages.SUCCESS if outcome.ok else messages.ERROR
    messages.add_message(request, level, outcome.message)
    return _redirect_back(request, reverse("invoicing:invoice_detail", args=[invoice.pk]))


@require_POST
@permission_required(VIEW, raise_exception=True)
def invoices_refresh(request: HttpRequest) -> HttpResponse:
    queued = tasks.invoices_refresh_enqueue(
        invoice_ids=_ids(request.POST.getlist("invoice")), stale_only=False
    )
    if not queued.pending:
        message = _("No invoice on this page is in Qoyod.")
    else:
        count = len(queued.pending)
        message = ngettext(
            "Refreshing %(count)d invoice from Qoyod in the background.",
            "Refreshing %(count)d invoices from Qoyod in the background.",
            count,
        ) % {"count": count}
    if _is_htmx(request):
        return render(
            request,
            "qoyod_sync/refresh_status.html",
            {"pending": sorted(queued.pending), "started": int(time.time()), "message": message},
        )
    messages.info(request, message)
    return _redirect_back(request, reverse("invoicing:invoice_list"))


@require_POST
@permission_required(VIEW, raise_exception=True)
def refresh_stale(request: HttpRequest) -> HttpResponse:
    """Queue the page's rows not checked lately; answer with the status line and those rows."""
    queued = tasks.invoices_refresh_enqueue(
        invoice_ids=_ids(request.POST.getlist("invoice")), stale_only=True
    )
    pending = sorted(queued.pending)
    return render(
        request,
        "qoyod_sync/refresh_poll.html",
        {
            "invoices": invoice_selectors.invoice_list().filter(pk__in=pending),
            "pending": pending,
            "started": int(time.time()),
            "message": "",
        },
    )


@require_GET
@permission_required(VIEW, raise_exception=True)
def refresh_poll(request: HttpRequest) -> HttpResponse:
    """The status line again, and the rows whose background refresh has finished since."""
    ids = _ids(request.GET.getlist("invoice"))
    started = request.GET.get("started", "")
    # Seconds since the epoch, read as strictly as an id: a "²" or 400 digits are no time.
    started_at = parse_id(started) or int(time.time())
    pending = fetch.invoices_pending(ids)
    timed_out = time.time() - started_at > fetch.QUEUED_FOR.total_seconds()
    if timed_out and pending:
        message = _(
            "The background refresh has not finished; the worker may be stopped. "
            "Use Refresh from Qoyod on a row."
        )
    else:
        message = _("Refreshed from Qoyod.") if not pending else ""
    # The rows as the list loads them: the poll repeats, and costs the same for 1 row or 50.
    done = invoice_selectors.invoice_list().filter(pk__in=[pk for pk in ids if pk not in pending])
    return render(
        request,
        "qoyod_sync/refresh_poll.html",
        {
            "invoices": done,
            "pending": [] if timed_out else sorted(pending),
            "started": started_at,
            "message": message,
        },
    )
