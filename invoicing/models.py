from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, QuantityField, RateField
from core.messages import render
from garage import tax
from garage.models import (
    Branch,
    Customer,
    JobCard,
    ServiceItem,
    SparePart,
    Vehicle,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from invoicing.history import EditDisplay
    from payments.models import QoyodPaymentState


class CustomInvoiceField(models.Model):
    """A field a customer wants on its invoices, e.g. its purchase-order number."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="invoice_fields",
        verbose_name=_("customer"),
    )
    heading_en = models.CharField(_("heading (English)"), max_length=60)
    heading_ar = models.CharField(_("heading (Arabic)"), max_length=60, blank=True)
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    required = models.BooleanField(_("required"), default=False)
    allowed_values = models.JSONField(
        _("allowed values"),
        default=list,
        blank=True,
        help_text=_("A list of texts; leave empty for any text."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["customer", "position", "id"]
        verbose_name = _("custom invoice field")
        verbose_name_plural = _("custom invoice fields")

    def __str__(self) -> str:
        return self.heading

    @property
    def heading(self) -> str:
        if get_language() == "ar" and self.heading_ar:
            return self.heading_ar
        return self.heading_en


class FinanceState(models.TextChoices):
    """Where an invoice stands with the finance system that reads it through the API."""

    PENDING = "pending", _("Waiting for the finance system")
    PROCESSED = "processed", _("Processed by the finance system")
    FAILED = "failed", _("Failed in the finance system")
    # A processed invoice that was voided, and whose cancellation the finance system took.
    CANCELLED = "cancelled", _("Cancellation processed by the finance system")


# The finance system's queue: issued invoices Qoyod does not own that it has not taken yet, and
# voids of invoices it had taken (cancellation items). One definition for the API's queue and
# the partial index that serves it.
FINANCE_QUEUE = (
    Q(requires_qoyod=False, finance_state=FinanceState.PENDING) & ~Q(status="void")
) | Q(status="void", finance_state=FinanceState.PROCESSED)


class Invoice(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void")

    number = models.CharField(_("number"), max_length=25, unique=True, editable=False)
    job = models.ForeignKey(
        JobCard, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("job")
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, verbose_name=_("branch"))
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("customer")
    )
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("vehicle")
    )
    # Snapshot of the customer and vehicle as they were at issue: an invoice never changes
    # because a customer later moved or corrected their name.
    customer_name = models.CharField(_("customer name"), max_length=200)
    customer_name_ar = models.CharField(_("customer name (Arabic)"), max_length=200, blank=True)
    customer_phone = models.CharField(_("customer mobile"), max_length=13, blank=True)
    customer_vat_number = models.CharField(_("customer VAT number"), max_length=15, blank=True)
    customer_address = models.CharField(_("customer address"), max_length=400, blank=True)
    vehicle_description = models.CharField(_("vehicle"), max_length=200)
    vehicle_plate = models.CharField(_("plate"), max_length=9, db_index=True)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    net_total = MoneyField(_("net"), default=Decimal("0"))
    vat_total = MoneyField(_("VAT"), default=Decimal("0"))
    total = MoneyField(_("total"), default=Decimal("0"))
    amount_paid = MoneyField(_("paid"), default=Decimal("0"))
    balance = MoneyField(_("balance"), default=Decimal("0"))
    notes = models.TextField(_("notes"), blank=True)
    requires_qoyod = models.BooleanField(_("Requires Qoyod invoice"), default=False)
    # Set once Qoyod holds a draft of this invoice; from then on Qoyod owns payments and edits.
    qoyod_managed = models.BooleanField(_("managed in Qoyod"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.ISSUED, db_index=True
    )
    void_reason = models.CharField(_("void reason"), max_length=300, blank=True)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("replaces"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Moved only by invoicing.processing; the queue is FINANCE_QUEUE, in finance_queued_at order.
    finance_state = models.CharField(
        _("finance system"), max_length=16, choices=FinanceState, default=FinanceState.PENDING
    )
    finance_reference = models.CharField(_("finance reference"), max_length=100, blank=True)
    finance_cancel_reference = models.CharField(
        _("finance cancellation reference"), max_length=100, blank=True
    )
    finance_failure = models.CharField(_("finance failure"), max_length=500, blank=True)
    # When the invoice last entered the queue (issued, or voided after processing): a cursor
    # walking the queue in this order meets an item that entered later at the end, never behind.
    finance_queued_at = models.DateTimeField(default=timezone.now, editable=False)
    # The customer's invoice fields as filled in (invoicing.custom_fields): headings copied with
    # the values, so a heading renamed later does not change an issued invoice.
    custom_fields = models.JSONField(_("invoice fields"), default=list, blank=True, editable=False)

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        permissions = [
            ("void_invoice", "Can void and reissue invoices"),
            ("send_invoice_to_customer", "Can email invoices to customers"),
        ]
        # The sum identities (total = net + VAT, balance = total - paid, per line too) are
        # CHECK constraints on PostgreSQL only, added by migration 0003: SQLite keeps decimals
        # as binary floats, where 0.10 + 0.01 != 0.11.
        constraints = [
            models.UniqueConstraint(
                fields=["job"], condition=~Q(status="void"), name="invoice_one_active_per_job"
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("issue_date")), name="invoice_due_after_issue"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_paid__lte=F("total")),
                name="invoice_paid_within_total",
            ),
        ]
        indexes = [
            models.Index(fields=["-issue_date", "-id"], name="invoice_list_order"),
            models.Index(
                fields=["finance_queued_at", "id"],
                condition=FINANCE_QUEUE,
                name="invoice_finance_queue",
            ),
            models.Index(
                fields=["-issue_date", "-id"],
                condition=Q(finance_state=FinanceState.FAILED),
                name="invoice_finance_failed",
            ),
        ]

    # Set by selectors.invoice_detail for the invoice page: status changes and events,
    # oldest first.
    timeline: list[InvoiceStatusChange | InvoiceEvent | InvoiceFinanceChange]

    def __str__(self) -> str:
        return self.number

    @property
    def custom_field_rows(self) -> list[tuple[str, str]]:
        """(heading in the reader's language, value) of the invoice fields, for its page."""
        arabic = get_language() == "ar"
        return [
            (row["heading_ar"] if arabic and row["heading_ar"] else row["heading_en"], row["value"])
            for row in self.custom_fields
        ]

    @property
    def status_label(self) -> str:
        # What get_status_display shows, without rebuilding a dict of every choice on each call
        # (the list draws one per row).
        return str(self.Status(self.status).label)

    @property
    def is_void(self) -> bool:
        return self.status == self.Status.VOID

    @property
    def has_payments(self) -> bool:
        return self.amount_paid > 0

    def _qoyod_state(self) -> QoyodPaymentState | None:
        if not self.qoyod_managed:
            return None
        try:
            return self.qoyod_payment_state
        except ObjectDoesNotExist:
            return None

    @property
    def approved_in_qoyod(self) -> bool:
        """Qoyod's read-back says its invoice is approved (paid or not), so it is in its books."""
        state = self._qoyod_state()
        return state is not None and state.qoyod_status in ("approved", "partially_paid", "paid")

    @property
    def credited_in_qoyod(self) -> bool:
        """Qoyod's credit notes settled its whole total: cancelled there, not paid."""
        state = self._qoyod_state()
        return state is not None and state.credited_in_full

    @property
    def tax_invoice_in_qoyod(self) -> bool:
        """Qoyod issues this sale's tax invoice (once approved); ours is only a job summary."""
        return self.requires_qoyod or self.qoyod_managed

    # Guards (InvenTree's can_complete shape): each returns None when the action is allowed, or
    # the sentence shown to the user when it is not. The services raise with that sentence and
    # the pages read the same method to decide which actions to offer.

    def _managed_in_qoyod(self, action: str) -> str:
        return gettext(
            "%(number)s is managed in Qoyod: %(action)s there, or void and reissue it here."
        ) % {"number": self.number, "action": action}

    def edit_refusal(self) -> str | None:
        if self.qoyod_managed:
            return self._managed_in_qoyod(gettext("edit it"))
        if not self.is_void and self.finance_state in (FinanceState.PROCESSED, FinanceState.FAILED):
            # The finance system holds (or rejected) this version: a correction is a new one.
            return gettext(
                "%(number)s has been taken by the finance system: void and reissue it instead."
            ) % {"number": self.number}
        if self.is_void:
            return gettext("A void invoice cannot be edited.")
        if self.has_payments:
            return gettext(
                "%(number)s already has payments; void is not possible either — issue a credit "
                "note."
            ) % {"number": self.number}
        return None

    def void_refusal(self) -> str | None:
        if self.is_void:
            return gettext("%(number)s is already void.") % {"number": self.number}
        if self.credited_in_qoyod:
            # Credit notes cancelled it in Qoyod already; the void here only matches that, and
            # its "payments" are those notes, read back.
            return None
        if self.approved_in_qoyod:
            # Qoyod neither deletes nor edits an approved invoice (qoyod-api.md §5.3): voiding
            # only here would leave it in Qoyod's books, uncredited.
            return gettext(
                "Qoyod has approved %(number)s, so only a credit note corrects it: use "
                "Void and reissue with a credit note under Credit notes."
            ) % {"number": self.number}
        if self.has_payments:
            return gettext(
                "%(number)s has payments of %(paid)s SAR and cannot be voided: issue a credit "
                "note instead."
            ) % {"number": self.number, "paid": self.amount_paid}
        return None

    def reissue_refusal(self) -> str | None:
        if not self.is_void:
            return gettext("Only a void invoice can be reissued; void %(number)s first.") % {
                "number": self.number
            }
        replacement = getattr(self, "replaced_by", None)
        if replacement is not None:
            return replacement.already_invoiced()
        return None

    def payment_refusal(self) -> str | None:
        """Why no payment can be recorded here (the counter); the amount is checked apart."""
        if self.tax_invoice_in_qoyod:
            return gettext(
                "%(number)s is invoiced through Qoyod: record the payment in Qoyod, then refresh."
            ) % {"number": self.number}
        if self.is_void:
            return gettext("A void invoice cannot be paid.")
        if self.status == self.Status.PAID:
            return gettext("%(number)s is paid in full.") % {"number": self.number}
        return None

    def send_refusal(self) -> str | None:
        """Why the invoice cannot be emailed to the customer."""
        if self.qoyod_managed:
            return self._managed_in_qoyod(gettext("send it to the customer"))
        if self.is_void:
            return gettext("A void invoice cannot be sent.")
        if not self.customer.email:
            return gettext("The customer has no email address; add one first.")
        return None

    def whatsapp_refusal(self) -> str | None:
        """Why the invoice cannot be shared on WhatsApp (wa.me, the customer's mobile)."""
        if self.qoyod_managed:
            return self._managed_in_qoyod(gettext("send it to the customer"))
        if self.is_void:
            return gettext("A void invoice cannot be sent.")
        if not self.customer_phone:
            return gettext("The customer has no mobile number; add one first.")
        return None

    def already_invoiced(self) -> str:
        """The sentence for another invoice of this invoice's job, which this one blocks."""
        return gettext("Job %(job)s already has invoice %(number)s.") % {
            "job": self.job.number, "number": self.number,
        }  # fmt: skip

    @property
    def finance_queue_kind(self) -> str | None:
        """ "invoice" or "cancellation" while in the finance system's queue (FINANCE_QUEUE)."""
        if self.is_void:
            return "cancellation" if self.finance_state == FinanceState.PROCESSED else None
        if not self.requires_qoyod and self.finance_state == FinanceState.PENDING:
            return "invoice"
        return None

    @property
    def can_edit(self) -> bool:
        return self.edit_refusal() is None

    @property
    def can_void(self) -> bool:
        return self.void_refusal() is None

    @property
    def can_reissue(self) -> bool:
        return self.reissue_refusal() is None

    @property
    def can_pay_here(self) -> bool:
        return self.payment_refusal() is None


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        SERVICE = "service", _("Service")
        PART = "part", _("Spare part")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    service_item = models.ForeignKey(
        ServiceItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    spare_part = models.ForeignKey(
        SparePart, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description_en = models.CharField(_("description"), max_length=300)
    description_ar = models.CharField(_("description (Arabic)"), max_length=300, blank=True)
    quantity = QuantityField(_("quantity"))
    unit_price = MoneyField(_("unit price"))
    price_includes_vat = models.BooleanField(_("price includes VAT"), default=False)
    discount = MoneyField(_("discount"), default=Decimal("0"))
    vat_rate = RateField(_("VAT rate"))
    # The catalogue item's VAT category and ZATCA reason when the line was written: the invoice
    # keeps what it was issued with if the catalogue changes later.
    tax_category = models.CharField(
        _("VAT category"),
        max_length=1,
        choices=tax.TaxCategory,
        default=tax.TaxCategory.STANDARD,
    )
    vat_exemption_code = models.CharField(
        _("ZATCA reason"), max_length=tax.CODE_MAX_LENGTH, blank=True
    )
    line_net = MoneyField(_("net"))
    line_vat = MoneyField(_("VAT"))
    line_total = MoneyField(_("total"))
    # What the per-rate rounding rule moved on this line (see core/calculations.py).
    vat_adjustment = MoneyField(default=Decimal("0"))

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoiceline_qty_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(discount__gte=0),
                name="invoiceline_amounts_not_negative",
            ),
            tax.item_constraint("invoiceline"),
        ]

    def __str__(self) -> str:
        return self.description_en

    @property
    def descriptions(self) -> list[tuple[str, str]]:
        """(text, language) of each description given, the reader's language first."""
        both = [(self.description_en, "en"), (self.description_ar, "ar")]
        if get_language() == "ar":
            both.reverse()
        return [(text, language) for text, language in both if text]

    @property
    def item(self) -> ServiceItem | SparePart | None:
        return self.service_item if self.kind == self.Kind.SERVICE else self.spare_part

    @property
    def vat_percent(self) -> Decimal:
        return self.vat_rate * 100

    @property
    def is_standard_rated(self) -> bool:
        return tax.is_standard(self.tax_category)

    @property
    def tax_category_label(self) -> str:
        return tax.category_label(self.tax_category)

    @property
    def exemption_reason(self) -> tax.ExemptionReason | None:
        return tax.reason(self.vat_exemption_code)


class InvoiceStatusChange(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    # A Message (core/messages.py), put into words in the reader's language when shown.
    note_code = models.CharField(max_length=60, blank=True)
    note_params = models.JSONField(default=dict, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("invoice status change")
        verbose_name_plural = _("invoice status changes")

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.from_status} -> {self.to_status}"

    @property
    def note(self) -> str:
        return render(self.note_code, self.note_params)

    @property
    def from_label(self) -> StrOrPromise:
        return _status_label(self.from_status)

    @property
    def to_label(self) -> StrOrPromise:
        return _status_label(self.to_status)


class InvoiceEvent(models.Model):
    """Something done to an invoice that leaves its status as it was: an edit, an email."""

    class Kind(models.TextChoices):
        EDITED = "edited", _("Edited")
        EMAILED = "emailed", _("Emailed to the customer")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    # Data, not a sentence, so the page renders it in the reader's language (invoicing/history.py
    # documents each kind's shape): "edited" holds the changed fields and lines, before and
    # after; "emailed" holds the recipient.
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # Not auto_now_add: the data migration carries over when the older emailed rows were sent.
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("invoice event")
        verbose_name_plural = _("invoice events")

    # Set by selectors.invoice_detail on "edited" events: the change, ready to show.
    edit: EditDisplay

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.kind}"


class InvoiceFinanceChange(models.Model):
    """One move of an invoice's finance_state, reported by a finance system through the API."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="finance_history")
    from_state = models.CharField(max_length=16)
    to_state = models.CharField(max_length=16)
    # A Message (core/messages.py): the reference or the reason, with the reporting client.
    note_code = models.CharField(max_length=60)
    note_params = models.JSONField(default=dict, blank=True)
    # The API client's name as it was: invoicing does not import the api app.
    client_label = models.CharField(max_length=200)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("finance system change")
        verbose_name_plural = _("finance system changes")

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.from_state} -> {self.to_state}"

    @property
    def note(self) -> str:
        return render(self.note_code, self.note_params)

    @property
    def to_label(self) -> StrOrPromise:
        return dict(FinanceState.choices).get(self.to_state, self.to_state)


def _status_label(status: str) -> StrOrPromise:
    # A status no longer among the choices still reads as what was stored.
    return dict(Invoice.Status.choices).get(status, status)
