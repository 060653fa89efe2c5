"""Invoice pieces for templates: the list's row and the badges (invoicing.display), and on pages
of the apps below invoicing (the job page), which do not import it (design.md §1), the invoice
action."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from garage.models import JobCard
from invoicing import display, selectors
from invoicing.models import Invoice

register = template.Library()

register.filter("invoice_status_badge", display.invoice_status_badge)
register.filter("invoice_finance_badge", display.invoice_finance_badge)


@register.simple_tag
def invoice_row(invoice: Invoice, qoyod_cell: SafeString) -> SafeString:
    """{% invoice_row invoice cell %}: the row with its Qoyod column (display.invoice_row)."""
    return display.invoice_row(invoice, qoyod_cell)


@register.inclusion_tag("partials/job_invoice_action.html", takes_context=True)
def job_invoice_action(context: template.Context, job: JobCard) -> dict[str, Any]:
    """On a completed job: its invoice, or Create invoice while it has none."""
    invoice = None
    if job.status == JobCard.Status.COMPLETED:
        invoice = selectors.invoice_active_for_job(job=job)
    return {"job": job, "invoice": invoice, "perms": context.get("perms")}
