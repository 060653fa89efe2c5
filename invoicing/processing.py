"""The finance system's side of an invoice: processed with its reference, or failed with a reason.

A finance system drains the queue (models.FINANCE_QUEUE) through the API and reports back here.
The rule of which report is accepted lives only in `_next_state`; the API, the invoice pages and
the history read what it wrote. A report repeated with the same words changes nothing and answers
the same, so a client may retry a call whose answer it lost.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.messages import Message
from invoicing.models import FinanceState, Invoice, InvoiceFinanceChange

F = FinanceState


class FinanceConflict(Exception):
    """A report that contradicts what the finance system already reported, or comes too late.

    `code` is stable for clients; `current` and `requested` are the two references (or reasons)
    when they disagree.
    """

    def __init__(self, code: str, detail: str, *, current: str = "", requested: str = "") -> None:
        super().__init__(detail)
        self.code, self.detail, self.current, self.requested = code, detail, current, requested


def _clean(text: str, field: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValueError(field)
    return text


def _next_state(invoice: Invoice, *, processed: bool, text: str) -> str | None:
    """The state the report moves the invoice to; None when it repeats the last report."""
    state, number = invoice.finance_state, invoice.number
    if processed:
        if invoice.is_void and state == F.CANCELLED:
            same = invoice.finance_cancel_reference
        elif not invoice.is_void and state == F.PROCESSED:
            same = invoice.finance_reference
        else:
            same = None
        if same is not None:
            if same == text:
                return None
            raise FinanceConflict(
                "reference_conflict",
                _("%(number)s was already processed with reference %(current)s, not %(requested)s.")
                % {"number": number, "current": same, "requested": text},
                current=same,
                requested=text,
            )
        if invoice.finance_queue_kind == "cancellation":
            return F.CANCELLED
        if not invoice.is_void and not invoice.requires_qoyod and state in (F.PENDING, F.FAILED):
            return F.PROCESSED
    else:
        if not invoice.is_void and state == F.FAILED:
            if invoice.finance_failure == text:
                return None
            raise FinanceConflict(
                "failure_conflict",
                _("%(number)s was already reported as failed: %(current)s")
                % {"number": number, "current": invoice.finance_failure},
                current=invoice.finance_failure,
                requested=text,
            )
        if invoice.finance_queue_kind == "invoice":
            return F.FAILED
        if not invoice.is_void and state == F.PROCESSED:
            raise FinanceConflict(
                "already_processed",
                _("%(number)s was already processed with reference %(current)s.")
                % {"number": number, "current": invoice.finance_reference},
                current=invoice.finance_reference,
            )
    raise FinanceConflict(
        "not_in_queue",
        _("%(number)s is not in the finance queue (%(state)s, %(status)s).")
        % {
            "number": number,
            "state": F(state).label,
            "status": Invoice.Status(invoice.status).label,
        },
    )


@transaction.atomic
def _report(*, invoice: Invoice, processed: bool, text: str, client: str) -> Invoice:
    # The row lock makes concurrent reports of one invoice take turns: the first moves it, the
    # others see the result and answer it (or conflict).
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    to_state = _next_state(invoice, processed=processed, text=text)
    if to_state is None:
        return invoice
    from_state = invoice.finance_state
    if to_state == F.PROCESSED:
        invoice.finance_reference, invoice.finance_failure = text, ""
        note = Message("invoice.finance_processed", client=client, reference=text)
    elif to_state == F.CANCELLED:
        invoice.finance_cancel_reference = text
        note = Message("invoice.finance_cancelled", client=client, reference=text)
    else:
        invoice.finance_failure = text
        note = Message("invoice.finance_failed", client=client, reason=text)
    invoice.finance_state = to_state
    invoice.save(
        update_fields=[
            "finance_state",
            "finance_reference",
            "finance_cancel_reference",
            "finance_failure",
            "updated_at",
        ]
    )
    InvoiceFinanceChange.objects.create(
        invoice=invoice, from_state=from_state, to_state=to_state,
        note_code=note.code, note_params=note.params, client_label=client,
    )  # fmt: skip
    return invoice


def invoice_mark_processed(*, invoice: Invoice, reference: str, client: str) -> Invoice:
    """The finance system took the invoice (or its cancellation) under `reference`.

    Raises FinanceConflict when it already reported another reference, or the invoice is not in
    its queue; ValueError("reference") for an empty reference.
    """
    return _report(
        invoice=invoice, processed=True, text=_clean(reference, "reference"), client=client
    )


def invoice_mark_failed(*, invoice: Invoice, reason: str, client: str) -> Invoice:
    """The finance system could not take the invoice: it leaves the queue and staff see `reason`
    on it, void it and reissue it, and the new version enters the queue."""
    return _report(invoice=invoice, processed=False, text=_clean(reason, "reason"), client=client)
