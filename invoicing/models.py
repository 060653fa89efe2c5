from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, QuantityField, RateField
from core.messages import render
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
        indexes = [models.Index(fields=["-issue_date", "-id"], name="invoice_list_order")]

    # Set by selectors.invoice_detail for the invoice page: status changes and events,
    # oldest first.
    timeline: list[InvoiceStatusChange | InvoiceEvent]

    def __str__(self) -> str:
        return self.number

    @property
    def is_void(self) -> bool:
        return self.status == self.Status.VOID

    @property
    def has_payments(self) -> bool:
        return self.amount_paid > 0

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
        if self.qoyod_managed or self.requires_qoyod:
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

    def already_invoiced(self) -> str:
        """The sentence for another invoice of this invoice's job, which this one blocks."""
        return gettext("Job %(job)s already has invoice %(number)s.") % {
            "job": self.job.number, "number": self.number,
        }  # fmt: skip

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
    line_net = MoneyField(_("net"))
    line_vat = MoneyField(_("VAT"))
    line_total = MoneyField(_("total"))
    # What the per-rate rounding rule moved on this line (see core/calculations.py).
    vat_adjustment = MoneyField(default=Decimal("0"))

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoiceline_qty_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(discount__gte=0),
                name="invoiceline_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.description_en

    @property
    def item(self) -> ServiceItem | SparePart | None:
        return self.service_item if self.kind == self.Kind.SERVICE else self.spare_part

    @property
    def vat_percent(self) -> Decimal:
        return self.vat_rate * 100


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


def _status_label(status: str) -> StrOrPromise:
    # A status no longer among the choices still reads as what was stored.
    return dict(Invoice.Status.choices).get(status, status)
