"""The counter payment form; payments.services checks the balance and records it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import BoundedDateFormField, MoneyFormField
from core.forms import BootstrapFormMixin
from payments.models import Payment


class PaymentForm(BootstrapFormMixin, forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices)
    amount = MoneyFormField(label=_("Amount (SAR)"))
    paid_on = BoundedDateFormField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("Card slip or bank transfer reference."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate
        self.fields["amount"].widget.attrs.update(step="0.01", inputmode="decimal")
