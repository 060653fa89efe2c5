"""The credit-note card of the invoice page."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import prefetch_related_objects

from invoicing.models import Invoice
from qoyod_sync.credit import credit_refusal, send_refusal, uncredited_lines
from qoyod_sync.credit_forms import CreditForm
from qoyod_sync.templatetags.qoyod_tags import page_path
from qoyod_sync.views import SEND

register = template.Library()


@register.inclusion_tag("qoyod_sync/credit_notes.html", takes_context=True)
def qoyod_credit_notes(context: template.Context, invoice: Invoice) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("qoyod_sync.view_qoyodattempt"):
        return {"visible": False}
    # The notes the invoice page loaded with the invoice (the Qoyod header reads them too).
    notes = list(invoice.credit_notes.all())
    prefetch_related_objects(notes, "lines__invoice_line", "history__changed_by")
    rows = uncredited_lines(invoice) if invoice.qoyod_managed else []
    refusal = credit_refusal(invoice, rows) if invoice.qoyod_managed else None
    can_send = user.has_perm(SEND)
    can_credit = can_send and invoice.qoyod_managed and refusal is None
    # A refused partial credit draws the page again with the form as it was typed.
    form = context.get("credit_form")
    if not isinstance(form, CreditForm):
        form = CreditForm(invoice=invoice, rows=rows) if can_credit else None
    return {
        "visible": bool(notes) or can_credit,
        "invoice": invoice,
        "notes": [(note, can_send and send_refusal(note) is None) for note in notes],
        "can_credit": can_credit,
        "can_void": can_credit and user.has_perm("invoicing.void_invoice"),
        "form": form,
        "rows": [(line, left, form[f"qty_{line.pk}"]) for line, left in form.rows] if form else [],
        "next": page_path(request),
        "csrf_token": context.get("csrf_token"),
    }
