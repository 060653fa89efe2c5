"""One invoice: its page, void and reissue, email to the customer, print and the shared link."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import (
    login_not_required,
    permission_required,
)
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.http import AuthenticatedHttpRequest
from invoicing import selectors, services
from invoicing.forms import (
    VoidForm,
    add_service_error,
)
from invoicing.models import Invoice
from invoicing.pdf import PdfUnavailable, invoice_pdf
from invoicing.services import InvoiceAlreadyExists
from invoicing.whatsapp import whatsapp_url

# Salt of the signed link a customer receives by email; it opens only the printable page.
SHARE_SALT = "invoicing.shared-print"


def to_invoice(invoice: Invoice) -> HttpResponse:
    return redirect("invoicing:invoice_detail", pk=invoice.pk)


def to_saved_row(invoice: Invoice) -> HttpResponse:
    """After a save, the invoice list with the saved invoice's row first, its next step (Send
    draft to Qoyod, Record payment) in view."""
    url = reverse("invoicing:invoice_list")
    return redirect(f"{url}?saved={invoice.pk}#invoice-row-{invoice.pk}")


# -- list pages ------------------------------------------------------------------------------

# -- one invoice ------------------------------------------------------------------------------


def _load(pk: int) -> Invoice:
    try:
        return selectors.invoice_detail(pk=pk)
    except Invoice.DoesNotExist:
        raise Http404 from None


def _render_detail(
    request: HttpRequest,
    invoice: Invoice,
    *,
    void_form: VoidForm | None = None,
    extra: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    versions = selectors.invoice_versions(invoice=invoice)
    whatsapp = None
    if invoice.whatsapp_refusal() is None:
        whatsapp = whatsapp_url(invoice=invoice, link=shared_link(request, invoice))
    return render(
        request,
        "invoicing/invoice_detail.html",
        {
            "invoice": invoice,
            "rates": selectors.invoice_rate_summary(invoice=invoice),
            "versions": versions,
            "void_form": void_form or VoidForm(),
            "void_form_open": void_form is not None,
            "whatsapp_url": whatsapp,
            **(extra or {}),
        },
        status=status,
    )


def invoice_page(
    request: HttpRequest, pk: int, *, extra: Mapping[str, Any], status: int
) -> HttpResponse:
    """The invoice page with `extra` in its context: another app's refused form, as typed."""
    return _render_detail(request, _load(pk), extra=extra, status=status)


@permission_required("invoicing.view_invoice", raise_exception=True)
@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _load(pk))


def _void(request: AuthenticatedHttpRequest, pk: int, *, reissue: bool) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    form = VoidForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if reissue:
                replacement = services.invoice_void_and_reissue(
                    invoice=invoice, reason=reason, user=request.user
                )
            else:
                services.invoice_void(invoice=invoice, reason=reason, user=request.user)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if reissue:
                done = _("%(old)s is void and replaced by %(new)s.")
                if invoice.qoyod_managed and invoice.credited_in_qoyod:
                    # Credit notes cancelled the old one in Qoyod: nothing to delete there.
                    done += " " + _("Send %(new)s to Qoyod as a new draft.")
                elif invoice.qoyod_managed:
                    # Qoyod still holds the old draft: the user deletes it, then sends the new one.
                    done += " " + _(
                        "Delete the old draft of %(old)s in Qoyod from its page, then send "
                        "%(new)s to Qoyod as a new draft."
                    )
                messages.success(request, done % {"old": invoice.number, "new": replacement.number})
                return to_invoice(replacement)
            messages.success(request, _("%(number)s is void.") % {"number": invoice.number})
            return to_invoice(invoice)
    return _render_detail(request, _load(pk), void_form=form)


@permission_required("invoicing.void_invoice", raise_exception=True)
@require_POST
def invoice_void(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _void(request, pk, reissue=False)


@permission_required("invoicing.void_invoice", raise_exception=True)
@require_POST
def invoice_void_and_reissue(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _void(request, pk, reissue=True)


@permission_required("invoicing.void_invoice", raise_exception=True)
@require_POST
def invoice_reissue(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        replacement = services.invoice_reissue(invoice=invoice, user=request.user)
    except InvoiceAlreadyExists as exc:
        messages.info(request, exc.messages[0])
        return to_invoice(exc.invoice)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return to_invoice(invoice)
    messages.success(
        request,
        _("%(new)s reissued from %(old)s.") % {"new": replacement.number, "old": invoice.number},
    )
    return to_invoice(replacement)


def shared_link(request: HttpRequest, invoice: Invoice) -> str:
    """Absolute, signed link to the printable invoice that the customer can open unsigned-in."""
    token = signing.dumps(invoice.pk, salt=SHARE_SALT)
    return request.build_absolute_uri(reverse("invoicing:invoice_shared", args=[token]))


@permission_required("invoicing.send_invoice_to_customer", raise_exception=True)
@require_POST
def invoice_send(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.select_related("customer", "job"), pk=pk)
    try:
        services.invoice_send_to_customer(
            invoice=invoice, link=shared_link(request, invoice), user=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(number)s was emailed to %(email)s.")
            % {"number": invoice.number, "email": invoice.customer.email},
        )
    return to_invoice(invoice)


def _render_print(request: HttpRequest, invoice: Invoice, pdf_url: str) -> HttpResponse:
    context = {**selectors.invoice_print_context(invoice=invoice), "pdf_url": pdf_url}
    return render(request, "invoicing/print.html", context)


def _pdf_response(invoice: Invoice) -> HttpResponse:
    try:
        pdf = invoice_pdf(invoice=invoice)
    except PdfUnavailable:
        return HttpResponse(
            _("PDFs cannot be made on this server (Pango is not installed); use Print instead."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


@permission_required("invoicing.view_invoice", raise_exception=True)
@require_GET
def invoice_print(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_print(request, _load(pk), reverse("invoicing:invoice_pdf", args=[pk]))


@permission_required("invoicing.view_invoice", raise_exception=True)
@require_GET
def invoice_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _pdf_response(_load(pk))


def _shared_gone(request: HttpRequest, *, reason: str, invoice: Invoice | None) -> HttpResponse:
    # 410 Gone, not 404: the link was real but will never show the invoice again, which
    # link checkers and caches should remember; the page tells the customer what to do.
    return render(
        request,
        "invoicing/shared_gone.html",
        {
            "reason": reason,
            "invoice": invoice,
            "days": settings.INVOICE_SHARE_LINK_DAYS,
            "seller_name": settings.SELLER_NAME,
        },
        status=410,
    )


@login_not_required
@require_GET
def invoice_shared(request: HttpRequest, token: str) -> HttpResponse:
    """The printable invoice for the customer, from the signed link in their email."""
    max_age = timedelta(days=settings.INVOICE_SHARE_LINK_DAYS)
    try:
        pk = signing.loads(token, salt=SHARE_SALT, max_age=max_age)
    except signing.SignatureExpired:
        return _shared_gone(request, reason="expired", invoice=None)
    except signing.BadSignature:
        raise Http404 from None
    invoice = _load(pk)
    if invoice.is_void:
        return _shared_gone(request, reason="void", invoice=invoice)
    return _render_print(request, invoice, reverse("invoicing:invoice_shared_pdf", args=[token]))


@login_not_required
@require_GET
def invoice_shared_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The same invoice as a PDF, from the same signed link."""
    max_age = timedelta(days=settings.INVOICE_SHARE_LINK_DAYS)
    try:
        pk = signing.loads(token, salt=SHARE_SALT, max_age=max_age)
    except signing.SignatureExpired:
        return _shared_gone(request, reason="expired", invoice=None)
    except signing.BadSignature:
        raise Http404 from None
    invoice = _load(pk)
    if invoice.is_void:
        return _shared_gone(request, reason="void", invoice=invoice)
    return _pdf_response(invoice)
