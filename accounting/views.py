"""Accounting pages: the synced chart of accounts, and the settings with Sync configuration.

Thin: check the permission, validate, call one service, render. Sync configuration only reads
from Qoyod, inside the request of the user who clicked it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounting import selectors, services, sync_views, transactions, verification
from accounting.configuration import accounting_settings_get, configuration_sync
from accounting.display import RowPage, transaction_row
from accounting.filters import TransactionFilter
from accounting.forms import AccountingSettingsForm, BulkAssignForm, TransactionForm
from accounting.models import AccountingSettings, Transaction
from core import roles
from core.forms import choices_read
from core.http import AuthenticatedHttpRequest
from core.ids import parse_id
from core.paging import keyset_page, total_text
from qoyod_sync.messages import with_qoyod_words
from qoyod_sync.services import connection_get

SEE = roles.SEE_ACCOUNTING
MANAGE = roles.MANAGE_ACCOUNTING
VERIFY = roles.VERIFY_TRANSACTION


@require_GET
@permission_required(SEE, raise_exception=True)
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounting/chart.html",
        {
            "accounts": selectors.chart_accounts(),
            "settings": AccountingSettings.objects.filter(singleton=True).first(),
        },
    )


def _settings_page(
    request: HttpRequest, settings: AccountingSettings, form: AccountingSettingsForm | None = None
) -> HttpResponse:
    return render(
        request,
        "accounting/settings.html",
        {
            "settings": settings,
            "refusal": services.settings_refusal(settings),
            "form": form or AccountingSettingsForm(settings=settings),
            "connection": connection_get(),
            "counts": settings.last_sync_counts,
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(MANAGE, raise_exception=True)
def settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "GET":
        found = AccountingSettings.objects.filter(singleton=True).first()
        # A GET writes nothing: before the first save or sync, show an unsaved row.
        return _settings_page(request, found or AccountingSettings())
    current = accounting_settings_get()
    form = AccountingSettingsForm(request.POST, settings=current)
    refusal = services.settings_refusal(current)
    if refusal is not None:
        form.add_error(None, refusal)
    elif form.is_valid():
        data = form.cleaned_data
        try:
            services.accounting_settings_save(
                source_account=data["source_account"],
                vat_account=data["vat_account"],
                auto_sync=data["auto_sync"],
                receipt_required=data["receipt_required"],
                draft_bills=data["draft_bills"],
                bill_tax_id=data["bill_tax_id"],
                branch_sources=form.branch_sources(),
                user=request.user,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, _("Accounting settings saved."))
            return redirect("accounting:settings")
    return _settings_page(request, current, form)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def config_sync(request: AuthenticatedHttpRequest) -> HttpResponse:
    outcome = configuration_sync(user=request.user)
    text = with_qoyod_words(outcome.message.render(), outcome.message.qoyod_message)
    messages.add_message(request, messages.SUCCESS if outcome.ok else messages.ERROR, text)
    return redirect("accounting:settings")


@require_http_methods(["GET", "POST"])
@permission_required(roles.ENTER_TRANSACTION, raise_exception=True)
def transaction_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    branches = transactions.entry_branches(user=request.user)
    if request.method == "GET":
        form = TransactionForm(branches=branches)
    else:
        form = TransactionForm(request.POST, request.FILES, branches=branches)
        if form.is_valid():
            data = form.cleaned_data
            try:
                row = transactions.transaction_create(
                    kind=data["kind"],
                    direction=data["direction"] or None,
                    date=data["date"],
                    amount=data["amount"],
                    vat_amount=data["vat_amount"],
                    payee=data["payee"],
                    payee_vat_number=data["payee_vat_number"],
                    description=data["description"],
                    branch=data["branch"],
                    budget=data["budget"],
                    employee=data["employee"],
                    job=data["job"],
                    receipts=data["receipts"],
                    user=request.user,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("Transaction %(number)s saved with %(count)s receipt(s).")
                    % {"number": row.number, "count": row.receipts.count()},
                )
                return redirect("accounting:transaction_create")
    return render(
        request,
        "accounting/transaction_form.html",
        {"form": form, "no_branch": not branches},
    )


# gettext_lazy by its own name: makemessages only extracts the names it knows (_, gettext_lazy,
# ...), and these labels under an alias never reached the catalogue, so Arabic pages showed them
# in English.
TAB_LABELS = {
    selectors.Tab.EXPENSES: gettext_lazy("Expenses"),
    selectors.Tab.TRANSFERS: gettext_lazy("Transfers"),
    selectors.Tab.OTHERS: gettext_lazy("Others"),
    selectors.Tab.VERIFIED: gettext_lazy("Verified"),
}
PAGE_SIZE = 50


@require_GET
@permission_required(SEE, raise_exception=True)
def transaction_list(request: HttpRequest) -> HttpResponse:
    try:
        tab = selectors.Tab(request.GET.get("tab", selectors.Tab.EXPENSES))
    except ValueError:
        tab = selectors.Tab.EXPENSES
    found = TransactionFilter(request.GET, queryset=selectors.transaction_list())
    rows = found.qs.filter(selectors.TAB_Q[tab])
    counts = selectors.transaction_tab_counts(found.qs)
    page = keyset_page(request, rows, per_page=PAGE_SIZE, count=counts[tab.value])
    can_verify = request.user.has_perm(VERIFY)
    assign_form = BulkAssignForm(active_only=True)
    choices_read(
        [found.form.fields[name] for name in ("branch", "budget", "employee")]
        + [assign_form.fields["account"]]
    )
    sync_context = sync_views.list_context(tab=tab.value, page=page, can_verify=can_verify)
    next_query = request.GET.urlencode()
    row_page = RowPage(
        can_verify=can_verify,
        sync_tab=sync_context["sync_tab"],
        csrf_input=csrf_input(request),
        verify_url=reverse("accounting:transaction_verify"),
        next_query=next_query,
    )
    return render(
        request,
        "accounting/transaction_list.html",
        {
            "tab": tab.value,
            "tabs": [
                (t.value, label, total_text(count))
                for (t, label), count in zip(
                    TAB_LABELS.items(),
                    counts.values(),
                    strict=True,
                )
            ],
            "filter": found,
            "page": page,
            "rows": [transaction_row(row, row_page) for row in page.object_list],
            "assign_form": assign_form,
            "next_query": next_query,
            "can_verify": can_verify,
        }
        | sync_context,
    )


def _list_url(request: HttpRequest) -> str:
    query = request.POST.get("next_query", "")
    return reverse("accounting:transaction_list") + (f"?{query}" if query else "")


@require_POST
@permission_required(VERIFY, raise_exception=True)
def transaction_bulk_assign(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Assign one account to the selection, or to every row the filter matches, once confirmed."""
    query = QueryDict(request.POST.get("next_query", ""))
    form = BulkAssignForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.get_json_data().values():
            messages.error(request, errors[0]["message"])
        return redirect(_list_url(request))
    found = TransactionFilter(query, queryset=Transaction.objects.all())
    tab = query.get("tab", selectors.Tab.EXPENSES)
    tab_q = selectors.TAB_Q.get(
        selectors.Tab(tab) if tab in selectors.Tab else selectors.Tab.EXPENSES
    )
    selected = [pk for pk in map(parse_id, request.POST.getlist("pk")) if pk is not None]
    scope = found.qs.filter(tab_q)
    scope = scope.filter(pk__in=selected) if selected else scope
    account = form.cleaned_data["account"]
    if not form.cleaned_data["confirm"]:
        count = verification.bulk_assign_rows(queryset=scope, account=account).count()
        return render(
            request,
            "accounting/bulk_assign_confirm.html",
            {
                "count": count,
                "account": account,
                "selected": selected,
                "next_query": request.POST.get("next_query", ""),
            },
        )
    try:
        changed = verification.transaction_bulk_assign(
            queryset=scope, account=account, user=request.user
        )
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            messages.error(request, errors[0])
    else:
        messages.success(
            request,
            _("%(account)s assigned to %(count)s transaction(s).")
            % {"account": account, "count": changed},
        )
    return redirect(_list_url(request))


@require_POST
@permission_required(VERIFY, raise_exception=True)
def transaction_verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    row = get_object_or_404(Transaction, pk=parse_id(request.POST.get("pk")) or 0)
    try:
        if request.POST.get("undo"):
            verification.transaction_unverify(row=row, user=request.user)
        else:
            verification.transaction_verify(
                row=row,
                receipt_lost_reason=request.POST.get("receipt_lost_reason", "")[:300],
                user=request.user,
            )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        done = (
            _("%(number)s un-verified.") if request.POST.get("undo") else _("%(number)s verified.")
        )
        messages.success(request, done % {"number": row.number})
    return redirect(_list_url(request))
