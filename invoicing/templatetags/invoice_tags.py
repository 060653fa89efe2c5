"""Invoice pieces drawn on pages of the apps below invoicing (the job page), which do not
import it (design.md §1)."""

from __future__ import annotations

from typing import Any

from django import template

from garage.models import JobCard
from invoicing import selectors

register = template.Library()


@register.inclusion_tag("partials/job_invoice_action.html", takes_context=True)
def job_invoice_action(context: template.Context, job: JobCard) -> dict[str, Any]:
    """On a completed job: its invoice, or Create invoice while it has none."""
    invoice = None
    if job.status == JobCard.Status.COMPLETED:
        invoice = selectors.invoice_active_for_job(job=job)
    return {"job": job, "invoice": invoice, "perms": context.get("perms")}
