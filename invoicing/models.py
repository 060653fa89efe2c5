from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from garage.models import (
    MONEY,
    QUANTITY,
    RATE,
    Branch,
    Customer,
    JobCard,
    ServiceItem,
    SparePart,
    Vehicle,
)
from invoicing.messages import render


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
    customer_name_ar = models.CharField(max_length=200, blank=True)
    customer_phone = models.CharField(max_length=13, blank=True)
    customer_vat_number = models.CharField(_("customer VAT number"), max_length=15, blank=True)
    customer_address = models.CharField(max_length=400, blank=True)
    vehicle_description = models.CharField(_("vehicle"), max_length=200)
    vehicle_plate = models.CharField(_("plate"), max_length=9, db_index=True)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    net_total = models.DecimalField(_("net"), **MONEY, default=Decimal("0"))
    vat_total = models.DecimalField(_("VAT"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))
    amount_paid = models.DecimalField(_("paid"), **MONEY, default=Decimal("0"))
    balance = models.DecimalField(_("balance"), **MONEY, default=Decimal("0"))
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

    def __str__(self) -> str:
        return self.number

    @property
    def is_void(self) -> bool:
        return self.status == self.Status.VOID

    @property
    def has_payments(self) -> bool:
        return self.amount_paid > 0

    @property
    def can_edit(self) -> bool:
        return not (self.is_void or self.qoyod_managed or self.has_payments)

    @property
    def can_void(self) -> bool:
        return not self.is_void and not self.has_payments

    @property
    def can_pay_here(self) -> bool:
        return (
            not self.requires_qoyod
            and not self.qoyod_managed
            and self.status in (self.Status.ISSUED, self.Status.PARTIALLY_PAID)
        )

    @property
    def can_send_to_customer(self) -> bool:
        return not self.is_void and not self.qoyod_managed


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
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    price_includes_vat = models.BooleanField(_("price includes VAT"), default=False)
    discount = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    vat_rate = models.DecimalField(_("VAT rate"), **RATE)
    line_net = models.DecimalField(_("net"), **MONEY)
    line_vat = models.DecimalField(_("VAT"), **MONEY)
    line_total = models.DecimalField(_("total"), **MONEY)
    # What the per-rate rounding rule moved on this line (see invoicing/calculations.py).
    vat_adjustment = models.DecimalField(**MONEY, default=Decimal("0"))

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


class InvoiceStatusChange(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    # A Message (invoicing/messages.py), put into words in the reader's language when shown.
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
