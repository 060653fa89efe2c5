"""Qoyod pages: settings (connection, test, mappings), send and retry, the retry queue.

Thin: check the permission, validate, call one service, render. Sends run in this request,
started by the user's click; nothing here schedules a background write.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.http import AuthenticatedHttpRequest
from invoicing.models import Invoice
from qoyod_sync import push, selectors, services
from qoyod_sync.forms import ConnectionForm, MappingsForm
from qoyod_sync.messages import with_qoyod_words
from qoyod_sync.status import sync_status

MANAGE = "qoyod_sync.manage_connection"
SEND = "qoyod_sync.send_invoice"
PAGE_SIZE = 50


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _back(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("invoicing:invoice_detail", args=[invoice.pk])
    return redirect(target)


# ---- settings -------------------------------------------------------------------------------


def _settings_page(
    request: HttpRequest,
    *,
    connection_form: ConnectionForm | None = None,
    mappings_form: MappingsForm | None = None,
) -> HttpResponse:
    connection = services.connection_get()
    if mappings_form is None and connection is not None and connection.catalogue:
        mappings_form = MappingsForm(connection=connection)
    return render(
        request,
        "qoyod_sync/settings.html",
        {
            "connection": connection,
            "connection_form": connection_form
            or ConnectionForm(
                connection=connection,
                initial={"base_url": connection.base_url if connection else ""},
            ),
            "mappings_form": mappings_form,
            "branches": selectors.branch_warehouses(),
        },
    )


# The posted key stays out of error reports (mailed to ADMINS, the DEBUG page, Sentry).
@sensitive_post_parameters("api_key")
@require_http_methods(["GET", "POST"])
@permission_required(MANAGE, raise_exception=True)
def settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _settings_page(request)
    connection = services.connection_get()
    form = ConnectionForm(request.POST, connection=connection)
    if form.is_valid():
        try:
            saved = services.connection_save(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if saved.api_key_encrypted:
                messages.success(request, _("Qoyod connection saved. Test it next."))
            else:
                messages.warning(
                    request,
                    _(
                        "Qoyod address saved. The saved API key was removed because the address "
                        "changed: paste the key for this address."
                    ),
                )
            return redirect("qoyod_sync:settings")
    return _settings_page(request, connection_form=form)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def connection_test(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        connection = services.connection_test(user=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        level = messages.SUCCESS if connection.last_test_ok else messages.ERROR
        messages.add_message(
            request,
            level,
            with_qoyod_words(connection.last_test_message, connection.last_test_qoyod_message),
        )
    return redirect("qoyod_sync:settings")


@require_POST
@permission_required(MANAGE, raise_exception=True)
def mappings(request: AuthenticatedHttpRequest) -> HttpResponse:
    connection = services.connection_get()
    if connection is None:
        return redirect("qoyod_sync:settings")
    form = MappingsForm(request.POST, connection=connection)
    if form.is_valid():
        data = form.cleaned_data
        services.connection_mappings_save(
            warehouses=form.warehouses(),
            tax_id=data["tax_id"],
            unit_id=data["unit_id"],
            category_id=data["category_id"],
            sales_account_id=data["sales_account_id"],
            cogs_account_id=data["cogs_account_id"],
            user=request.user,
        )
        messages.success(request, _("Qoyod mappings saved."))
        return redirect("qoyod_sync:settings")
    return _settings_page(request, mappings_form=form)


# ---- send and retry -------------------------------------------------------------------------


def _send(request: AuthenticatedHttpRequest, pk: int, *, retry: bool) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        result = push.invoice_send_draft(invoice=invoice, user=request.user, retry=retry)
    except push.SendRefused as exc:
        message, ok = exc.messages[0], False
    else:
        message, ok = result.message, result.ok
    if _is_htmx(request):
        # The invoice row is swapped in place (its id is invoice-row-<pk>), message included.
        invoice.refresh_from_db()
        return render(
            request,
            "partials/invoice_row.html",
            {"invoice": invoice, "qoyod_message": message, "qoyod_ok": ok},
        )
    messages.add_message(request, messages.SUCCESS if ok else messages.ERROR, message)
    return _back(request, invoice)


@require_POST
@permission_required(SEND, raise_exception=True)
def invoice_send(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _send(request, pk, retry=False)


@require_POST
@permission_required(SEND, raise_exception=True)
def invoice_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _send(request, pk, retry=True)


@require_POST
@permission_required(SEND, raise_exception=True)
def invoice_draft_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        services.invoice_qoyod_draft_delete(invoice=invoice, user=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request, _("The old draft of %(number)s was deleted in Qoyod.") % {"number": invoice}
        )
    return _back(request, invoice)


@require_GET
@permission_required(SEND, raise_exception=True)
def retry_queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.retry_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(sync, selectors.fix_link(sync), sync_status(sync.invoice, sync)) for sync in page]
    return render(request, "qoyod_sync/retry_queue.html", {"page": page, "rows": rows})
