from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField
from core.messages import render
from invoicing.models import Invoice

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Payment(models.Model):
    """A payment recorded here, at the counter, on an invoice that Qoyod does not manage."""

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        CARD = "card", _("Card")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("method"), max_length=16, choices=Method)
    amount = MoneyField(_("amount"))
    paid_on = models.DateField(_("date"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paid_on", "id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.amount}"


class QoyodStatus(models.TextChoices):
    """An invoice's status as Qoyod reports it (qoyod-api.md §5.2, §12), plus "missing"."""

    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    # The draft is gone from Qoyod: the accountant deleted it instead of approving it.
    MISSING = "missing", _("Missing in Qoyod")


def covers_in_full(*, credited: Decimal | None, total: Decimal | None) -> bool:
    """Credit notes, not the customer, settled Qoyod's whole total of an invoice."""
    return credited is not None and total is not None and 0 < total <= credited


class QoyodPaymentState(models.Model):
    """What Qoyod last said about a Qoyod-managed invoice's payment; read back, never sent."""

    invoice = models.OneToOneField(
        Invoice, on_delete=models.CASCADE, related_name="qoyod_payment_state"
    )
    # Blank until the first successful read.
    qoyod_status = models.CharField(
        _("status in Qoyod"), max_length=20, choices=QoyodStatus, blank=True
    )
    qoyod_total = MoneyField(_("total in Qoyod"), null=True, blank=True)
    qoyod_paid = MoneyField(_("paid in Qoyod"), null=True, blank=True)
    qoyod_due = MoneyField(_("due in Qoyod"), null=True, blank=True)
    # The part of qoyod_paid that credit notes settled (allocations of source CreditNote):
    # money the customer did not pay.
    qoyod_credited = MoneyField(_("credited in Qoyod"), null=True, blank=True)
    # Qoyod's total minus ours: not zero means someone changed the invoice in Qoyod.
    total_difference = MoneyField(_("total difference"), null=True, blank=True)
    returned_by_accounting = models.BooleanField(_("returned by accounting"), default=False)
    returned_at = models.DateTimeField(null=True, blank=True)
    # refreshed_at: the last read that succeeded; checked_at: the last attempt, failed or not
    # (what decides staleness, so an unreachable Qoyod is not asked again on every page view).
    refreshed_at = models.DateTimeField(_("refreshed from Qoyod"), null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    changed_at = models.DateTimeField(_("last change read from Qoyod"), null=True, blank=True)
    # Why the last read failed, as a Message (core/messages.py) shown in the reader's
    # language, and apart from it Qoyod's own words, never translated.
    last_error_code = models.CharField(max_length=60, blank=True)
    last_error_params = models.JSONField(default=dict, blank=True)
    qoyod_message = models.TextField(_("Qoyod's message"), blank=True)
    # A background refresh is queued for this invoice until queued_until (so opening the page
    # again does not queue it twice) ...
    queued_until = models.DateTimeField(null=True, blank=True)
    # ... and one refresh holds the claim to read it from Qoyod until claimed_until, so
    # overlapping refreshes do not both ask Qoyod. A task's token is its Celery task id, which
    # a redelivered task keeps: it takes back its own claim after its worker died.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("Qoyod payment state")
        verbose_name_plural = _("Qoyod payment states")

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.qoyod_status or '-'}"

    @property
    def credited_in_full(self) -> bool:
        return covers_in_full(credited=self.qoyod_credited, total=self.qoyod_total)

    @property
    def last_error(self) -> str:
        return render(self.last_error_code, self.last_error_params)

    @property
    def has_total_difference(self) -> bool:
        return bool(self.total_difference)

    @property
    def is_pending(self) -> bool:
        """A read from Qoyod is queued or running for this invoice."""
        now = timezone.now()
        return any(
            until is not None and until > now for until in (self.queued_until, self.claimed_until)
        )

    @property
    def failed_last_time(self) -> bool:
        return bool(self.last_error_code) and (
            self.refreshed_at is None
            or (self.checked_at is not None and self.checked_at > self.refreshed_at)
        )


class QoyodAllocation(models.Model):
    """One payment (or credit note) Qoyod applied to an invoice, as last read back."""

    class Source(models.TextChoices):
        RECEIPT = "Receipt", _("Payment")
        CREDIT_NOTE = "CreditNote", _("Credit note")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="qoyod_allocations")
    qoyod_id = models.PositiveIntegerField(_("Qoyod allocation id"))
    # Kept as Qoyod spells it: a kind we do not know yet is still recorded, not dropped.
    source_type = models.CharField(_("source"), max_length=30)
    source_id = models.PositiveIntegerField(_("Qoyod payment id"), null=True, blank=True)
    date = models.DateField(_("date"), null=True, blank=True)
    amount = MoneyField(_("amount"))

    class Meta:
        ordering = ["date", "qoyod_id"]
        verbose_name = _("Qoyod allocation")
        verbose_name_plural = _("Qoyod allocations")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "qoyod_id"], name="qoyodallocation_one_per_invoice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.source_type} {self.source_id} {self.amount}"

    @property
    def source_label(self) -> StrOrPromise:
        try:
            return self.Source(self.source_type).label
        except ValueError:
            return self.source_type
