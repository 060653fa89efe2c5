"""Writes for invoices: generate from a job, edit, void, reissue, email, and their history."""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from core.calculations import CalculationError, LineInput, calculate_invoice
from core.messages import USER_TEXT, Message
from core.numbering import sequence_next
from garage.models import Customer, JobCard, ServiceItem, SparePart, Vehicle
from garage.tax import TaxCategory, category_label, is_standard
from invoicing import signals
from invoicing.custom_fields import custom_values_check, custom_values_of
from invoicing.history import edit_changes, edit_snapshot
from invoicing.models import Invoice, InvoiceEvent, InvoiceLine, InvoiceStatusChange
from invoicing.pdf import PdfUnavailable, invoice_pdf

S = Invoice.Status
# Moves between business statuses. Read-back from Qoyod may lower a paid invoice when a payment
# is deleted there; void is reached from a paid invoice only through a credit note of it
# (qoyod_sync/credit.py), since Qoyod keeps the money and refunds it.
INVOICE_TRANSITIONS: dict[str, set[str]] = {
    S.ISSUED: {S.PARTIALLY_PAID, S.PAID, S.VOID},
    S.PARTIALLY_PAID: {S.ISSUED, S.PAID, S.VOID},
    S.PAID: {S.PARTIALLY_PAID, S.ISSUED, S.VOID},
    S.VOID: set(),
}
QOYOD_REFERENCE = re.compile(r"[A-Za-z0-9_-]{0,24}[0-9]")

logger = logging.getLogger(__name__)


class InvoiceAlreadyExists(ValidationError):
    """The job already has an active invoice; `invoice` is that invoice."""

    def __init__(self, invoice: Invoice) -> None:
        super().__init__(invoice.already_invoiced())
        self.invoice = invoice


@dataclass(frozen=True, kw_only=True)
class LineData:
    """One line as the user reviewed it."""

    kind: str
    item: ServiceItem | SparePart | None
    description_en: str
    description_ar: str = ""
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    discount: Decimal = Decimal("0")
    price_includes_vat: bool = False
    # Snapshotted from the catalogue item when the line is taken from it.
    tax_category: str = TaxCategory.STANDARD
    vat_exemption_code: str = ""


def invoice_set_status(
    *, invoice: Invoice, to_status: str, user: User | None, note: Message | None = None
) -> None:
    """Move an invoice to another business status and record who did it; raise if not allowed."""
    from_status = invoice.status
    if to_status == from_status:
        return
    if to_status not in INVOICE_TRANSITIONS[from_status]:
        raise ValidationError(
            _("An invoice that is %(from)s cannot become %(to)s.")
            % {"from": S(from_status).label, "to": S(to_status).label}
        )
    invoice.status = to_status
    InvoiceStatusChange.objects.create(
        invoice=invoice, from_status=from_status, to_status=to_status,
        note_code=note.code if note else "", note_params=note.params if note else {},
        changed_by=user,
    )  # fmt: skip


def job_invoice_pending_expression() -> ExpressionWrapper:
    """JobCard.invoice_pending as it should be: completed, and no invoice that is not void."""
    active = Invoice.objects.filter(job=OuterRef("pk")).exclude(status=S.VOID)
    return ExpressionWrapper(
        Q(status=JobCard.Status.COMPLETED) & ~Exists(active), output_field=BooleanField()
    )


def job_invoice_pending_refresh(*, job_id: int) -> None:
    """Set the job's Needs Invoice flag from its invoices; every invoice write that issues or
    voids one calls it."""
    JobCard.objects.filter(pk=job_id).update(invoice_pending=job_invoice_pending_expression())


def invoice_number_format(*, year: int, sequence: int) -> str:
    """PREFIX-YEAR-000123, checked to be a valid Qoyod reference (qoyod-api.md §5.1)."""
    number = f"{settings.INVOICE_NUMBER_PREFIX}-{year}-{sequence:06d}"
    if not QOYOD_REFERENCE.fullmatch(number):
        raise ValueError(f"INVOICE_NUMBER_PREFIX gives an invalid Qoyod reference: {number}")
    return number


def invoice_prefill(*, job: JobCard) -> list[LineData]:
    """The lines a new invoice starts from: the job's lines at their current prices and VAT."""
    lines = []
    for line in job.lines.select_related("service_item", "spare_part"):
        item = line.item
        lines.append(
            LineData(
                kind=line.kind,
                item=item,
                description_en=line.description or item.name_en,
                description_ar=item.name_ar,
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=item.vat_rate,
                tax_category=item.tax_category,
                vat_exemption_code=item.vat_exemption_code,
            )
        )
    return lines


def _calculate(lines: Sequence[LineData]):
    if not lines:
        raise ValidationError(_("An invoice needs at least one line."))
    errors = []
    for index, line in enumerate(lines, start=1):
        if line.item is None:
            errors.append(_("Line %(n)d is not linked to a service or part.") % {"n": index})
        if line.quantity is None or line.quantity <= 0:
            errors.append(_("Line %(n)d: the quantity must be more than zero.") % {"n": index})
        if line.unit_price is None or line.unit_price < 0:
            errors.append(_("Line %(n)d: the price cannot be negative.") % {"n": index})
        elif line.discount < 0 or (
            # A non-positive quantity already has its own error; every discount exceeds it.
            line.quantity is not None
            and line.quantity > 0
            and line.discount > line.quantity * line.unit_price
        ):
            errors.append(
                _("Line %(n)d: the discount cannot be negative or more than the line amount.")
                % {"n": index}
            )
        if not is_standard(line.tax_category) and line.vat_rate:
            errors.append(
                _("Line %(n)d: %(item)s is %(category)s, so its VAT is 0%%.")
                % {"n": index, "item": line.description_en,
                   "category": category_label(line.tax_category).lower()}
            )  # fmt: skip
    if errors:
        raise ValidationError(errors)
    try:
        return calculate_invoice(
            [
                LineInput(
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    vat_rate=line.vat_rate,
                    discount=line.discount,
                    price_includes_vat=line.price_includes_vat,
                    tax_category=line.tax_category,
                )  # fmt: skip
                for line in lines
            ]
        )
    except CalculationError as exc:
        raise ValidationError(str(exc)) from exc


def invoice_preview(*, lines: Sequence[LineData]):
    """Totals for lines being edited, from the same calculator that saves them."""
    return _calculate(lines)


def _write_lines(invoice: Invoice, lines: Sequence[LineData], totals) -> None:
    invoice.lines.all().delete()
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=position,
            kind=line.kind,
            service_item=line.item if isinstance(line.item, ServiceItem) else None,
            spare_part=line.item if isinstance(line.item, SparePart) else None,
            description_en=line.description_en,
            description_ar=line.description_ar,
            quantity=line.quantity,
            unit_price=line.unit_price,
            price_includes_vat=line.price_includes_vat,
            discount=line.discount,
            vat_rate=line.vat_rate,
            tax_category=line.tax_category,
            vat_exemption_code=line.vat_exemption_code,
            line_net=result.net,
            line_vat=result.vat,
            line_total=result.total,
            vat_adjustment=result.vat_adjustment,
        )
        for position, (line, result) in enumerate(zip(lines, totals.lines, strict=True), 1)
    )


def _snapshot(invoice: Invoice, customer: Customer, vehicle: Vehicle) -> None:
    if vehicle.customer_id != customer.pk:
        raise ValidationError({"vehicle": [_("This vehicle belongs to another customer.")]})
    invoice.customer = customer
    invoice.vehicle = vehicle
    invoice.customer_name = customer.name_en or customer.name_ar
    invoice.customer_name_ar = customer.name_ar
    invoice.customer_phone = customer.phone
    invoice.customer_vat_number = customer.vat_number
    invoice.customer_address = customer.address_line
    invoice.vehicle_description = vehicle.name
    invoice.vehicle_plate = vehicle.plate_number


def _check_dates(issue_date: datetime.date, due_date: datetime.date) -> None:
    if due_date < issue_date:
        raise ValidationError({"due_date": [_("The due date cannot be before the issue date.")]})


def _apply_totals(invoice: Invoice, totals) -> None:
    invoice.net_total = totals.net
    invoice.vat_total = totals.vat
    invoice.total = totals.total
    invoice.balance = totals.total - invoice.amount_paid


@transaction.atomic
def invoice_create(
    *,
    job: JobCard,
    customer: Customer,
    vehicle: Vehicle,
    lines: Sequence[LineData],
    issue_date: datetime.date,
    due_date: datetime.date,
    requires_qoyod: bool,
    user: User | None,
    notes: str = "",
    replaces: Invoice | None = None,
    custom_values: Mapping[int, str] | None = None,
) -> Invoice:
    """Issue the invoice of a completed job with the next gap-free number of the year.

    `custom_values` fills the customer's invoice fields (field id -> text)."""
    # Locking the job serialises two clicks on Generate: the second sees the first's invoice.
    job = JobCard.objects.select_for_update().get(pk=job.pk)
    existing = Invoice.objects.filter(job=job).exclude(status=S.VOID).first()
    if existing is not None:
        raise InvoiceAlreadyExists(existing)
    if job.status != JobCard.Status.COMPLETED:
        raise ValidationError(_("Only a completed job can be invoiced."))
    _check_dates(issue_date, due_date)
    totals = _calculate(lines)
    invoice = Invoice(
        job=job, branch=job.branch, issue_date=issue_date, due_date=due_date, notes=notes,
        requires_qoyod=requires_qoyod, created_by=user, replaces=replaces,
        custom_fields=custom_values_check(customer=customer, values=custom_values),
    )  # fmt: skip
    _snapshot(invoice, customer, vehicle)
    _apply_totals(invoice, totals)
    invoice.number = invoice_number_format(
        year=issue_date.year, sequence=sequence_next(name="invoice", year=issue_date.year)
    )
    invoice.save()
    InvoiceStatusChange.objects.create(
        invoice=invoice, from_status="", to_status=S.ISSUED, changed_by=user,
        note_code="invoice.reissue_of" if replaces else "",
        note_params={"number": replaces.number} if replaces else {},
    )  # fmt: skip
    _write_lines(invoice, lines, totals)
    job_invoice_pending_refresh(job_id=job.pk)
    signals.invoice_event.send(
        sender=Invoice, event=signals.REISSUED if replaces else signals.ISSUED, invoice=invoice
    )
    return invoice


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice.pk)


def _refuse(refusal: str | None) -> None:
    """Raise the sentence of a guard on the model (Invoice.edit_refusal and the others)."""
    if refusal is not None:
        raise ValidationError(refusal)


@transaction.atomic
def invoice_update(
    *,
    invoice: Invoice,
    customer: Customer,
    vehicle: Vehicle,
    lines: Sequence[LineData],
    issue_date: datetime.date,
    due_date: datetime.date,
    requires_qoyod: bool,
    user: User | None,
    notes: str = "",
    custom_values: Mapping[int, str] | None = None,
) -> Invoice:
    """Correct an invoice that is not void, not paid in any part and not managed in Qoyod.

    What changed, before and after, is recorded as an "edited" event by `user`.
    """
    invoice = _locked(invoice)
    _refuse(invoice.edit_refusal())
    _check_dates(issue_date, due_date)
    filled = custom_values_check(customer=customer, values=custom_values)
    totals = _calculate(lines)
    before = edit_snapshot(invoice=invoice)
    _snapshot(invoice, customer, vehicle)
    _apply_totals(invoice, totals)
    invoice.issue_date, invoice.due_date = issue_date, due_date
    if invoice.requires_qoyod and not requires_qoyod:
        # It enters the finance system's queue now, so at its end: a finance system whose
        # cursor is past the invoice's first queue time would never see it otherwise.
        invoice.finance_queued_at = timezone.now()
    invoice.requires_qoyod, invoice.notes = requires_qoyod, notes
    invoice.custom_fields = filled
    invoice.save()
    _write_lines(invoice, lines, totals)
    changes = edit_changes(before=before, after=edit_snapshot(invoice=invoice))
    if changes:
        InvoiceEvent.objects.create(
            invoice=invoice, kind=InvoiceEvent.Kind.EDITED, details=changes, created_by=user
        )
    return invoice


@transaction.atomic
def invoice_void(
    *, invoice: Invoice, reason: str, user: User | None, credit_note: str = ""
) -> Invoice:
    """Void an unpaid invoice, or one Qoyod holds that `credit_note` (its number) credits in
    full; its job reappears in Needs Invoice."""
    invoice = _locked(invoice)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the invoice is void.")]})
    if not (credit_note and invoice.qoyod_managed and not invoice.is_void):
        _refuse(invoice.void_refusal())
    status_before = invoice.status
    invoice_set_status(
        invoice=invoice, to_status=S.VOID, user=user, note=Message(USER_TEXT, text=reason)
    )
    invoice.void_reason = reason
    if invoice.finance_queue_kind == "cancellation":
        # The finance system holds this invoice: it re-enters the queue, at the end, to cancel it.
        invoice.finance_queued_at = timezone.now()
    invoice.save(update_fields=["status", "void_reason", "finance_queued_at", "updated_at"])
    job_invoice_pending_refresh(job_id=invoice.job_id)
    after = {"status": invoice.status, "reason": reason}
    if credit_note:
        after["credit_note"] = credit_note
    audit_record(actor=user, action=AuditEvent.Action.INVOICE_VOID, obj=invoice,
                 before={"status": status_before}, after=after)  # fmt: skip
    signals.invoice_event.send(sender=Invoice, event=signals.VOIDED, invoice=invoice)
    return invoice


@transaction.atomic
def invoice_reissue(*, invoice: Invoice, user: User | None) -> Invoice:
    """Issue a replacement of a void invoice with the same lines, linked to the original."""
    invoice = _locked(invoice)
    refusal = invoice.reissue_refusal()
    if refusal is not None:
        # Already reissued: refused with the replacement attached, so the page can open it.
        replacement = getattr(invoice, "replaced_by", None)
        raise InvoiceAlreadyExists(replacement) if replacement else ValidationError(refusal)
    lines = [
        LineData(
            kind=line.kind,
            item=line.item,
            description_en=line.description_en,
            description_ar=line.description_ar,
            quantity=line.quantity,
            unit_price=line.unit_price,
            vat_rate=line.vat_rate,
            discount=line.discount,
            price_includes_vat=line.price_includes_vat,
            tax_category=line.tax_category,
            vat_exemption_code=line.vat_exemption_code,
        )  # fmt: skip
        for line in invoice.lines.select_related("service_item", "spare_part")
    ]
    today = timezone.localdate()
    replacement = invoice_create(
        job=invoice.job, customer=invoice.customer, vehicle=invoice.vehicle, lines=lines,
        issue_date=today,
        due_date=today + datetime.timedelta(days=settings.INVOICE_PAYMENT_TERM_DAYS),
        requires_qoyod=invoice.requires_qoyod, user=user, notes=invoice.notes, replaces=invoice,
        custom_values=custom_values_of(invoice=invoice),
    )  # fmt: skip
    audit_record(actor=user, action=AuditEvent.Action.INVOICE_REISSUE, obj=replacement,
                 before={"replaces": invoice.number},
                 after={"number": replacement.number, "total": replacement.total})  # fmt: skip
    return replacement


def invoice_void_and_reissue(*, invoice: Invoice, reason: str, user: User | None) -> Invoice:
    """Void an invoice and issue its replacement in one step."""
    with transaction.atomic():
        invoice_void(invoice=invoice, reason=reason, user=user)
        return invoice_reissue(invoice=invoice, user=user)


def invoice_send_to_customer(*, invoice: Invoice, link: str, user: User | None) -> None:
    """Email the invoice (HTML body, the PDF attached and a link to the printable page) to the
    customer; the email is recorded as an "emailed" event with its recipient and `user`."""
    invoice.refresh_from_db()
    _refuse(invoice.send_refusal())
    context = {
        "invoice": invoice, "link": link, "seller_name": settings.SELLER_NAME,
        "link_days": settings.INVOICE_SHARE_LINK_DAYS,
    }  # fmt: skip
    with translation.override(translation.get_language()):
        subject = _("Invoice %(number)s from %(seller)s") % {
            "number": invoice.number, "seller": settings.SELLER_NAME,
        }  # fmt: skip
        text = render_to_string("invoicing/email.txt", context)
        html = render_to_string("invoicing/email.html", context)
    message = EmailMultiAlternatives(subject, text, to=[invoice.customer.email])
    message.attach_alternative(html, "text/html")
    try:
        message.attach(f"{invoice.number}.pdf", invoice_pdf(invoice=invoice), "application/pdf")
    except PdfUnavailable:
        # The link in the email still opens the invoice; the missing library is logged.
        logger.warning("invoice_pdf_unavailable", extra={"invoice": invoice.number})
    # Sent outside any transaction: a slow mail server must not hold row locks.
    message.send()
    InvoiceEvent.objects.create(
        invoice=invoice, kind=InvoiceEvent.Kind.EMAILED,
        details={"recipient": invoice.customer.email}, created_by=user,
    )  # fmt: skip
