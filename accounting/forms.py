"""Accounting forms: the settings (accounts from the synced chart) and transaction entry."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting import rules, selectors
from accounting.models import Account, AccountingSettings, BranchSourceAccount, Budget, Transaction
from core.fields import MoneyFormField
from core.forms import BootstrapFormMixin
from garage.models import Branch, JobCard
from garage.validators import normalise_vat_number


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class AccountingSettingsForm(forms.Form):
    source_account = AccountChoiceField(
        label=_("Source account"),
        queryset=Account.objects.none(),
        help_text=_(
            "The Qoyod account that funds garage spending (bank, petty cash, company card): the "
            "other side of every synced transaction."
        ),
    )
    vat_account = AccountChoiceField(
        label=_("Input VAT account"),
        queryset=Account.objects.none(),
        help_text=_("The VAT on expenses is debited here (input VAT, claimed back)."),
    )
    auto_sync = forms.BooleanField(
        label=_("Auto sync: refresh the configuration from Qoyod every day"), required=False
    )
    receipt_required = forms.BooleanField(
        label=_("A transaction needs a receipt to be verified"), required=False
    )
    draft_bills = forms.BooleanField(
        label=_("Send expenses with a supplier VAT number as draft expense bills"),
        help_text=_(
            "Instead of a journal entry, Qoyod gets a draft expense bill from the supplier (found "
            "or created as a vendor by VAT number); your accountant approves it in Qoyod."
        ),
        required=False,
    )
    bill_tax_id = forms.TypedChoiceField(
        label=_("VAT tax of expense bills"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, data: Any = None, *, settings: AccountingSettings) -> None:
        self.branches = list(Branch.objects.filter(is_active=True))
        overrides = dict(BranchSourceAccount.objects.values_list("branch_id", "account_id"))
        initial: dict[str, Any] = {
            "source_account": settings.source_account_id,
            "vat_account": settings.vat_account_id,
            "auto_sync": settings.auto_sync,
            "receipt_required": settings.receipt_required,
            "draft_bills": settings.draft_bills,
            "bill_tax_id": settings.bill_tax_id,
        }
        initial |= {f"branch_{b.pk}": overrides.get(b.pk) for b in self.branches}
        super().__init__(data, initial=initial)
        sources = selectors.source_account_choices()
        vat = selectors.vat_account_choices()
        self._field("source_account").queryset = sources
        self._field("vat_account").queryset = vat
        taxes = selectors.tax_choices()
        bill_tax = self.fields["bill_tax_id"]
        assert isinstance(bill_tax, forms.TypedChoiceField)
        bill_tax.choices = [("", _("— choose a tax —")), *taxes]
        for branch in self.branches:
            self.fields[f"branch_{branch.pk}"] = AccountChoiceField(
                label=_("Source account of %(branch)s") % {"branch": branch.name},
                queryset=sources,
                required=False,
                empty_label=_("— the garage's source account —"),
            )
        for name, field in self.fields.items():
            if not isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-select"
            field.widget.attrs["data-testid"] = name

    def _field(self, name: str) -> AccountChoiceField:
        field = self.fields[name]
        assert isinstance(field, AccountChoiceField)
        return field

    @property
    def account_fields(self) -> list[forms.BoundField]:
        return [self["source_account"], self["vat_account"]]

    @property
    def branch_fields(self) -> list[forms.BoundField]:
        return [self[f"branch_{b.pk}"] for b in self.branches]

    @property
    def policy_fields(self) -> list[forms.BoundField]:
        return [
            self["auto_sync"],
            self["receipt_required"],
            self["draft_bills"],
            self["bill_tax_id"],
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("draft_bills") and data.get("bill_tax_id") is None:
            self.add_error(
                "bill_tax_id", _("Choose the VAT tax that draft expense bills are sent with.")
            )
        return data

    def branch_sources(self) -> dict[int, Account | None]:
        return {b.pk: self.cleaned_data[f"branch_{b.pk}"] for b in self.branches}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ReceiptsField(forms.FileField):
    """Several receipt files at once; their type and size are checked by the service's rules."""

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(ReceiptsField, self).clean(f, initial) for f in files]


class TransactionForm(BootstrapFormMixin, forms.Form):
    """The phone-first entry form: the camera opens from the receipt field."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Transaction.Kind.choices)
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=Transaction.Direction.choices,
        required=False,
        help_text=_("For a transfer or reimbursement; the other kinds set it themselves."),
    )
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = MoneyFormField(label=_("Amount, VAT included (SAR)"))
    vat_amount = MoneyFormField(label=_("VAT amount (SAR)"), initial=Decimal("0"))
    payee = forms.CharField(label=_("Merchant or payee"), max_length=200, required=False)
    payee_vat_number = forms.CharField(label=_("VAT number"), max_length=30, required=False)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.none())
    budget = forms.ModelChoiceField(
        label=_("Budget or category"),
        queryset=Budget.objects.filter(is_active=True),
        required=False,
    )
    employee = forms.ModelChoiceField(
        label=_("Employee"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("first_name", "username"),
        required=False,
    )
    job = forms.ModelChoiceField(
        label=_("Job card (a part bought for it)"),
        queryset=JobCard.objects.exclude(status=JobCard.Status.CANCELLED).order_by("-id"),
        required=False,
        to_field_name="number",
        widget=forms.TextInput(attrs={"placeholder": "JOB-2026-000001", "dir": "ltr"}),
    )
    receipts = ReceiptsField(
        label=_("Receipts (photo or PDF)"),
        required=False,
        widget=MultipleFileInput(
            attrs={"accept": ",".join(rules.RECEIPT_TYPES), "capture": "environment"}
        ),
    )

    def __init__(self, *args: Any, branches: list[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        branch_field = self.fields["branch"]
        assert isinstance(branch_field, forms.ModelChoiceField)
        branch_field.queryset = Branch.objects.filter(pk__in=[b.pk for b in branches])
        if len(branches) == 1:
            branch_field.initial = branches[0].pk
        for name in ("amount", "vat_amount"):
            self.fields[name].widget.attrs["inputmode"] = "decimal"
        self.fields["date"].initial = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount, vat = data.get("amount"), data.get("vat_amount")
        if amount is not None and vat is not None:
            for field, refusal in rules.amount_refusals(amount=amount, vat_amount=vat).items():
                self.add_error(field, refusal)
        if data.get("date") and (late := rules.date_refusal(date=data["date"])):
            self.add_error("date", late)
        return data

    def clean_payee_vat_number(self) -> str:
        value = self.cleaned_data["payee_vat_number"]
        return normalise_vat_number(value) if value else ""


class BulkAssignForm(forms.Form):
    account = AccountChoiceField(
        label=_("Account"), queryset=Account.objects.all(), empty_label=_("— choose an account —")
    )
    confirm = forms.BooleanField(required=False)

    def __init__(self, *args: Any, active_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Offered: active accounts. Accepted: any, so an account deactivated since the page
        # was drawn gets the service's refusal in words instead of "invalid choice".
        if active_only:
            field = self.fields["account"]
            assert isinstance(field, AccountChoiceField)
            field.queryset = Account.objects.active()
        self.fields["account"].widget.attrs.update(
            {"class": "form-select", "data-testid": "bulk-account"}
        )
