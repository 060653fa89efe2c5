"""The credit-note form: a reason and, per invoice line, how much of it to credit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.fields import QuantityFormField
from invoicing.models import Invoice, InvoiceLine
from qoyod_sync.credit import CreditLine, uncredited_lines


class CreditForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def __init__(
        self,
        *args: Any,
        invoice: Invoice,
        rows: list[tuple[InvoiceLine, Decimal]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # `rows` is uncredited_lines(invoice) when the caller has read it already.
        self.rows = uncredited_lines(invoice) if rows is None else rows
        for line, _left in self.rows:
            # What is left uncredited is checked by the service, the one home of that rule.
            self.fields[f"qty_{line.pk}"] = QuantityFormField(
                label=line.description_en, required=False, min_value=Decimal("0")
            )

    def credit_lines(self) -> list[CreditLine]:
        return [
            CreditLine(line_id=line.pk, quantity=self.cleaned_data[f"qty_{line.pk}"])
            for line, _left in self.rows
            if self.cleaned_data.get(f"qty_{line.pk}")
        ]
