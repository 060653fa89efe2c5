from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from garage.models import MONEY
from invoicing.models import Invoice


class Payment(models.Model):
    """A payment recorded here, at the counter, on an invoice that Qoyod does not manage."""

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        CARD = "card", _("Card")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("method"), max_length=16, choices=Method)
    amount = models.DecimalField(_("amount"), **MONEY)
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
