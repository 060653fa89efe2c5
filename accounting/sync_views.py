"""Sync to Qoyod (the seed's step 8) and the receipts page a journal entry links to.

The Verified tab's page posts the selection a few rows at a time (static/js/journal_sync.js);
without JavaScript the same form posts a small selection and comes back to the list. The
receipts page needs no login: its unguessable token is the permission, and an admin revokes it
by replacing it (the transaction's admin page).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounting import selectors, sync
from accounting.filters import TransactionFilter
from accounting.models import Transaction
from core import roles
from core.http import AuthenticatedHttpRequest
from core.ids import parse_id
from core.paging import KeysetPage

VERIFY = roles.VERIFY_TRANSACTION
# What the page sends per request: each transaction is one Qoyod call, so a request stays
# far inside the web worker's timeout, and closing the page loses at most this many answers.
BATCH = 5
# A plain form post (no JavaScript) sends the whole selection in one request.
MAX_WITHOUT_SCRIPT = 10
# "All matching the filter" is capped so one page cannot start an afternoon's work.
MAX_MATCHING = 1000


def list_context(*, tab: str, page: KeysetPage[Any], can_verify: bool) -> dict[str, Any]:
    """What the transaction list needs for sync: every row's pre-flight, and the panel."""
    page.object_list = list(page.object_list)
    # Shown before sending, on the rows that are waiting to be sent; the books are read only
    # for a page that has such rows or the panel (the Verified tab's).
    waiting = [r for r in page.object_list if r.is_verified and r.state in sync.SENDABLE]
    sync_tab = tab == selectors.Tab.VERIFIED and can_verify
    books = sync.books_read() if waiting or sync_tab else None
    for row in page.object_list:
        row.sync_problems = []
    if books is not None:
        for row in waiting:
            row.sync_problems = [p.render() for p in sync.sync_refusals(row=row, books=books)]
    return {
        "sync_tab": sync_tab,
        "sync_batch": BATCH,
        "sync_max_plain": MAX_WITHOUT_SCRIPT,
        "sync_approval": books.approval if books is not None else None,
    }


def _scope(query: QueryDict) -> Any:
    found = TransactionFilter(query, queryset=Transaction.objects.all())
    return found.qs.filter(selectors.TAB_Q[selectors.Tab.VERIFIED])


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
@permission_required(VERIFY, raise_exception=True)
def transaction_sync(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send the posted rows (verified ones only) to Qoyod, one journal entry each."""
    selected = [pk for pk in map(parse_id, request.POST.getlist("pk")) if pk is not None]
    limit = BATCH if _wants_json(request) else MAX_WITHOUT_SCRIPT
    next_query = request.POST.get("next_query", "")
    back = reverse("accounting:transaction_list") + f"?{next_query or 'tab=verified'}"
    if not selected or len(selected) > limit:
        text = (
            _("Select the verified transactions to sync.")
            if not selected
            else ngettext(
                "Select at most %(count)s transaction at a time without JavaScript.",
                "Select at most %(count)s transactions at a time without JavaScript.",
                limit,
            )
            % {"count": limit}
        )
        if _wants_json(request):
            return JsonResponse({"error": text}, status=400)
        messages.error(request, text)
        return redirect(back)
    pks = list(_scope(QueryDict()).filter(pk__in=selected).values_list("pk", flat=True))
    results = sync.transaction_sync(
        pks=pks, user=request.user, site=request.build_absolute_uri("/")
    )
    if _wants_json(request):
        return JsonResponse({"results": [r.as_json() for r in results]})
    for result in results:
        level = messages.SUCCESS if result.ok else messages.ERROR
        messages.add_message(request, level, f"{result.number}: {result.message}")
    return redirect(back)


@require_GET
@permission_required(VERIFY, raise_exception=True)
def transaction_sync_ids(request: HttpRequest) -> HttpResponse:
    """The ids of the verified rows the list's filter matches that may still be sent."""
    rows = _scope(request.GET).filter(state__in=sync.SENDABLE).order_by("date", "number")
    pks = list(rows.values_list("pk", flat=True)[: MAX_MATCHING + 1])
    return JsonResponse({"pks": pks[:MAX_MATCHING], "capped": len(pks) > MAX_MATCHING})


def _by_token(token: uuid.UUID) -> Transaction:
    return get_object_or_404(
        Transaction.objects.select_related("branch", "account"), receipts_token=token
    )


@login_not_required
@require_GET
def receipts_page(request: HttpRequest, receipts_token: uuid.UUID) -> HttpResponse:
    """The transaction and its receipts, for whoever holds the link in the Qoyod entry."""
    row = _by_token(receipts_token)
    response = render(
        request,
        "accounting/sync_receipts.html",
        {"row": row, "receipts": list(row.receipts.all())},
    )
    # The link is the permission: never cache it anywhere a revoke could not reach.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@require_GET
def receipt_file(request: HttpRequest, receipts_token: uuid.UUID, receipt_id: int) -> FileResponse:
    row = _by_token(receipts_token)
    receipt = row.receipts.filter(pk=receipt_id).first()
    if receipt is None:
        raise Http404
    response = FileResponse(receipt.file.open("rb"), content_type=receipt.content_type)
    response["Content-Disposition"] = f'inline; filename="{row.number}{receipt.extension}"'
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
