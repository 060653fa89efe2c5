"""Credit notes from the invoice page: issue (all, or chosen lines), void and reissue through a
credit note, and Send / Retry to Qoyod. POST only, each a user's click."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.http import AuthenticatedHttpRequest
from invoicing.models import Invoice
from invoicing.views.document import invoice_page
from qoyod_sync import credit
from qoyod_sync.credit_forms import CreditForm
from qoyod_sync.models import QoyodCreditNote
from qoyod_sync.views import SEND, _back


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@require_POST
@permission_required(SEND, raise_exception=True)
def invoice_credit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A credit note of the lines and quantities chosen; the invoice stays as it is."""
    invoice = get_object_or_404(Invoice, pk=pk)
    form = CreditForm(request.POST, invoice=invoice)
    if form.is_valid():
        try:
            note = credit.credit_note_issue(
                invoice=invoice, reason=form.cleaned_data["reason"], user=request.user,
                lines=form.credit_lines(),
            )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Credit note %(number)s issued (%(total)s SAR); send it to Qoyod below.")
                % {"number": note.number, "total": note.total},
            )
            return _back(request, invoice)
    # The page again, the form open with what was typed and why it was refused.
    return invoice_page(request, invoice.pk, extra={"credit_form": form}, status=400)


@require_POST
@permission_required(SEND, raise_exception=True)
@permission_required("invoicing.void_invoice", raise_exception=True)
def invoice_credit_and_reissue(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Void and reissue of an invoice Qoyod approved: a credit note of all of it first."""
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        note, replacement = credit.invoice_credit_and_reissue(
            invoice=invoice, reason=request.POST.get("reason", ""), user=request.user
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return _back(request, invoice)
    messages.success(
        request,
        _(
            "%(old)s is void and replaced by %(new)s. Send credit note %(note)s to Qoyod from "
            "%(old)s, then send %(new)s as a new draft."
        )
        % {"old": invoice.number, "new": replacement.number, "note": note.number},
    )
    return redirect(reverse("invoicing:invoice_detail", args=[invoice.pk]))


@require_POST
@permission_required(SEND, raise_exception=True)
def invoice_credit_note_send(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Send (or retry) one credit note of the invoice to Qoyod as a Draft."""
    invoice = get_object_or_404(Invoice, pk=pk)
    note = get_object_or_404(QoyodCreditNote, pk=request.POST.get("note") or 0, invoice=invoice)
    try:
        result = credit.credit_note_send(note=note, user=request.user)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return _back(request, invoice)
    (messages.success if result.ok else messages.error)(request, result.message)
    return _back(request, invoice)
