"""Recording a counter payment on an invoice that Qoyod does not manage."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.http import AuthenticatedHttpRequest
from invoicing.forms import add_service_error
from invoicing.models import Invoice
from payments import services
from payments.forms import PaymentForm


@permission_required("payments.add_payment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def payment_create(request: AuthenticatedHttpRequest, invoice_id: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    if request.method == "GET" and (refusal := invoice.payment_refusal()):
        messages.error(request, refusal)
        return redirect("invoicing:invoice_detail", pk=invoice.pk)

    form = PaymentForm(
        request.POST if request.method == "POST" else None, initial={"amount": invoice.balance}
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.payment_record(
                invoice=invoice,
                method=data["method"],
                amount=data["amount"],
                paid_on=data["paid_on"],
                reference=data["reference"],
                user=request.user,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Payment of %(amount)s SAR recorded on %(number)s.")
                % {"amount": payment.amount, "number": invoice.number},
            )
            return redirect("invoicing:invoice_detail", pk=invoice.pk)
    # Re-read after a refused payment: another cashier may have changed the balance meanwhile.
    invoice.refresh_from_db()
    return render(
        request,
        "payments/payment_form.html",
        {
            "invoice": invoice,
            "form": form,
            "payments": invoice.payments.select_related("created_by"),
        },
    )
