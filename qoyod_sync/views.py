"""Qoyod pages: settings (connection, test, mappings), send and retry, the retry queue.

Thin: check the permission, validate, call one service, render. Sends run in this request,
started by the user's click; nothing here schedules a background write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.http import AuthenticatedHttpRequest
from core.paging import keyset_page
from garage.models import Branch
from invoicing.models import Invoice
from payments import close as payments_close
from qoyod_sync import push, reconcile, selectors, services, stock
from qoyod_sync.display import retry_row
from qoyod_sync.errors import QoyodError
from qoyod_sync.forms import (
    ConnectionForm,
    DailyCloseForm,
    MappingsForm,
    ReconciliationForm,
    StockSyncForm,
)
from qoyod_sync.messages import with_qoyod_words
from qoyod_sync.models import (
    BILL_KINDS,
    CREDIT_NOTE_KINDS,
    JOURNAL_KINDS,
    QoyodConnection,
    QoyodInvoiceSync,
    ReconciliationFinding,
    ReconciliationRun,
)
from qoyod_sync.status import sync_status

MANAGE = "qoyod_sync.manage_connection"
SEND = "qoyod_sync.send_invoice"
PAGE_SIZE = 50
ADJUSTMENTS_SHOWN = 20


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
            "adjustments": selectors.stock_adjustments()[:ADJUSTMENTS_SHOWN],
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
            payment_method=data["payment_method"],
            user=request.user,
        )
        services.connection_stock_accounts_save(
            gain_account_id=data["stock_gain_account_id"],
            loss_account_id=data["stock_loss_account_id"],
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


# ---- stock ----------------------------------------------------------------------------------


def _stock_sync(request: AuthenticatedHttpRequest, branch: Branch, invoice: Invoice | None) -> None:
    try:
        result = stock.stock_adjustment_send(branch=branch, invoice=invoice, user=request.user)
    except stock.StockSyncRefused as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.add_message(
            request, messages.SUCCESS if result.ok else messages.ERROR, result.message
        )


@require_POST
@permission_required(SEND, raise_exception=True)
def invoice_stock_sync(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.select_related("branch"), pk=pk)
    _stock_sync(request, invoice.branch, invoice)
    return _back(request, invoice)


@require_POST
@permission_required(SEND, raise_exception=True)
def stock_sync(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StockSyncForm(request.POST)
    if form.is_valid():
        _stock_sync(request, form.cleaned_data["branch"], None)
    else:
        messages.error(request, _("Choose a branch with a Qoyod warehouse."))
    return redirect("qoyod_sync:settings")


@require_GET
@permission_required(SEND, raise_exception=True)
def retry_queue(request: HttpRequest) -> HttpResponse:
    # Counted as the menu's badge counts it ("100+"), so a long queue costs what a short one does.
    page = keyset_page(
        request, selectors.retry_queue(), per_page=PAGE_SIZE, cap=selectors.QUEUE_CAP
    )
    csrf, next_path = csrf_input(request), request.get_full_path()
    rows = [
        retry_row(
            sync,
            selectors.fix_link(sync),
            sync_status(sync.invoice, sync),
            csrf_input=csrf,
            next_path=next_path,
        )
        for sync in page
    ]
    return render(request, "qoyod_sync/retry_queue.html", {"page": page, "rows": rows})


# Salt of the signed link to Qoyod's own tax invoice that the customer receives on WhatsApp.
TAX_INVOICE_SALT = "qoyod_sync.tax-invoice"


def tax_invoice_link(request: HttpRequest, invoice: Invoice) -> str:
    token = signing.dumps(invoice.pk, salt=TAX_INVOICE_SALT)
    return request.build_absolute_uri(reverse("qoyod_sync:tax_invoice", args=[token]))


@login_not_required
@require_GET
def tax_invoice(request: HttpRequest, token: str) -> HttpResponse:
    """Qoyod's tax invoice for the customer: a fresh temporary address of its PDF, asked for
    when the link is opened (Qoyod's addresses expire within minutes)."""
    max_age = timedelta(days=django_settings.INVOICE_SHARE_LINK_DAYS)
    try:
        pk = signing.loads(token, salt=TAX_INVOICE_SALT, max_age=max_age)
    except signing.SignatureExpired:
        return _tax_invoice_gone(request, "expired", None)
    except signing.BadSignature:
        raise Http404 from None
    invoice = get_object_or_404(Invoice, pk=pk, qoyod_managed=True)
    if invoice.is_void:
        return _tax_invoice_gone(request, "void", invoice)
    sync = QoyodInvoiceSync.objects.filter(invoice=invoice).first()
    connection = services.connection_get()
    if sync is None or sync.qoyod_invoice_id is None or connection is None:
        raise Http404
    try:
        url = services.connection_reader(connection).invoice_pdf_url(sync.qoyod_invoice_id)
    except (QoyodError, ValidationError):
        return _tax_invoice_gone(request, "unavailable", invoice, status=503)
    return redirect(url)


def _tax_invoice_gone(
    request: HttpRequest, reason: str, invoice: Invoice | None, *, status: int = 410
) -> HttpResponse:
    response = render(
        request,
        "invoicing/shared_gone.html",
        {
            "reason": reason,
            "invoice": invoice,
            "days": django_settings.INVOICE_SHARE_LINK_DAYS,
            "seller_name": django_settings.SELLER_NAME,
        },
        status=status,
    )
    if status == 503:
        response["Retry-After"] = "120"
    return response


RECONCILE = "qoyod_sync.reconcile"


def _finding_url(connection: QoyodConnection, kind: str) -> Callable[[int], str]:
    """What a finding's Qoyod ids are: customers, credit notes, entries, bills, or invoices."""
    Kind = ReconciliationFinding.Kind
    if kind == Kind.DUPLICATE_CUSTOMER:
        return connection.customer_url
    if kind in CREDIT_NOTE_KINDS:
        return connection.credit_note_url
    if kind in JOURNAL_KINDS:
        return connection.journal_entry_url
    if kind in BILL_KINDS:
        return connection.simple_bill_url
    return connection.invoice_url


RECONCILE_TABS = ("invoices", "journal", "bills")


def _reconciliation_page(
    request: HttpRequest,
    form: ReconciliationForm,
    *,
    status: int = 200,
    run: ReconciliationRun | None = None,
) -> HttpResponse:
    run = run or reconcile.last_run()
    rows: dict[str, list[tuple[ReconciliationFinding, list[str]]]] = {
        tab: [] for tab in RECONCILE_TABS
    }
    connection = selectors.request_connection(request)
    if run is not None:
        for finding in run.findings.select_related("invoice"):
            url = _finding_url(connection, finding.kind) if connection else None
            links = [url(i) for i in finding.qoyod_ids] if url else []
            rows[finding.tab].append((finding, links))
    tab = request.GET.get("tab")
    context = {
        "run": run,
        "findings": rows["invoices"],
        "journal": rows["journal"],
        "bills": rows["bills"],
        "form": form,
        "tab": tab if tab in RECONCILE_TABS else "invoices",
    }
    return render(request, "qoyod_sync/reconciliation.html", context, status=status)


@require_GET
@permission_required(RECONCILE, raise_exception=True)
def reconciliation(request: HttpRequest) -> HttpResponse:
    run = reconcile.last_run()
    # The form offers the last run's range again, or the nightly one before any run.
    initial = (
        {"date_from": run.date_from, "date_to": run.date_to} if run else reconcile.default_range()
    )
    return _reconciliation_page(request, ReconciliationForm(initial=initial), run=run)


@require_POST
@permission_required(RECONCILE, raise_exception=True)
def reconciliation_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ReconciliationForm(request.POST)
    if not form.is_valid():
        return _reconciliation_page(request, form, status=400)
    try:
        reconcile.reconciliation_run_now(
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            user=request.user,
        )
    except reconcile.CannotReconcile as exc:
        messages.error(request, exc.message.render())
    return redirect("qoyod_sync:reconciliation")


@require_GET
@permission_required(RECONCILE, raise_exception=True)
def reconciliation_csv(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ReconciliationRun, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reconciliation-{run.pk}.csv"'
    reconcile.findings_csv(run, response)
    return response


@require_GET
@permission_required(RECONCILE, raise_exception=True)
def daily_close(request: HttpRequest) -> HttpResponse:
    data: Any = request.GET or None
    if data is None:
        # A garage with one branch has nothing to choose: today's close opens straight away.
        branches = list(Branch.objects.values_list("pk", flat=True)[:2])
        if len(branches) == 1:
            data = {"branch": branches[0], "day": timezone.localdate()}
    form = DailyCloseForm(data, initial={"day": timezone.localdate()})
    close = None
    if form.is_valid():
        close = payments_close.daily_close(
            branch=form.cleaned_data["branch"], day=form.cleaned_data["day"]
        )
    return render(
        request,
        "qoyod_sync/daily_close.html",
        {"form": form, "close": close},
        status=400 if data and not form.is_valid() else 200,
    )
