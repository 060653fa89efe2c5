"""Forms of the statement import: the upload, and the column mapping with its formats."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounting.csv_import import DATE_FORMATS, Mapping
from accounting.models import StatementUpload
from core.forms import BootstrapFormMixin
from garage.models import Branch

NONE = ""
AMOUNT, DEBIT_CREDIT = "amount", "debit_credit"
# Header words (English and Arabic) that preselect a column; the user can change every choice.
_GUESSES = {
    "date": ("date", "تاريخ"),
    "amount": ("amount", "مبلغ", "قيمة"),
    "debit": ("debit", "withdrawal", "مدين", "سحب"),
    "credit": ("credit", "deposit", "دائن", "إيداع"),
    "description": ("description", "details", "narrative", "وصف", "بيان", "تفاصيل"),
    "reference": ("reference", "ref", "مرجع"),
    "vat": ("vat", "tax", "ضريبة"),
    "payee": ("merchant", "payee", "تاجر", "مستفيد"),
    "budget": ("budget", "category", "ميزانية", "فئة", "تصنيف"),
    "employee": ("employee", "username", "موظف"),
}
REQUIRED = ("date", "description", "reference")
OPTIONAL = ("vat", "payee", "budget", "employee")


class StatementUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Statement (CSV)"),
        # An empty file gets the import's own refusal, naming the file.
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    encoding = forms.ChoiceField(
        label=_("Encoding"),
        choices=StatementUpload.Encoding.choices,
        initial=StatementUpload.Encoding.UTF8,
        help_text=_("Excel's “CSV UTF-8” is UTF-8; its plain “CSV” in Arabic is Windows-1256."),
    )


def _guess(header: list[str], field: str) -> str:
    words = _GUESSES[field]
    for index, name in enumerate(header):
        if any(word in name.casefold() for word in words):
            return str(index)
    return NONE


class StatementMappingForm(BootstrapFormMixin, forms.Form):
    """Which column holds what; the mapping is sent with the preview's GET and the import's POST."""

    layout = forms.ChoiceField(
        label=_("Amounts"),
        choices=[
            (AMOUNT, _("One amount column: negative is money out, positive is money in")),
            (DEBIT_CREDIT, _("Debit and credit columns: debit is money out, credit is money in")),
        ],
    )
    date = forms.ChoiceField(label=_("Date"))
    amount = forms.ChoiceField(label=_("Amount"), required=False)
    debit = forms.ChoiceField(label=_("Debit"), required=False)
    credit = forms.ChoiceField(label=_("Credit"), required=False)
    description = forms.ChoiceField(label=_("Description"))
    reference = forms.ChoiceField(label=_("Reference"))
    vat = forms.ChoiceField(label=_("VAT amount"), required=False)
    payee = forms.ChoiceField(label=_("Merchant or payee"), required=False)
    budget = forms.ChoiceField(label=_("Budget or category (by name)"), required=False)
    employee = forms.ChoiceField(label=_("Employee (by username)"), required=False)
    date_format = forms.ChoiceField(
        label=_("Date format"), choices=[(k, k) for k in DATE_FORMATS], initial="dd/mm/yyyy"
    )
    decimal = forms.ChoiceField(
        label=_("Decimal separator"),
        choices=[(".", _("Point: 1,234.50")), (",", _("Comma: 1.234,50"))],
        initial=".",
    )
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.none())

    def __init__(
        self, *args: Any, header: list[str], branches: list[Branch], **kwargs: Any
    ) -> None:
        if not args or args[0] is None:
            initial = {field: _guess(header, field) for field in _GUESSES}
            initial["layout"] = (
                DEBIT_CREDIT if not initial["amount"] and initial["debit"] else AMOUNT
            )
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        columns = [(str(i), name or f"#{i + 1}") for i, name in enumerate(header)]
        for field in _GUESSES:
            choice = self.fields[field]
            assert isinstance(choice, forms.ChoiceField)
            if field in REQUIRED:
                choice.choices = columns
            else:
                choice.choices = [(NONE, _("— not in the file —")), *columns]
        branch = self.fields["branch"]
        assert isinstance(branch, forms.ModelChoiceField)
        branch.queryset = Branch.objects.filter(pk__in=[b.pk for b in branches])
        if len(branches) == 1:
            branch.initial = branches[0].pk

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("layout") == AMOUNT and not data.get("amount"):
            self.add_error("amount", _("Choose the column that holds the amount."))
        if data.get("layout") == DEBIT_CREDIT:
            for field in ("debit", "credit"):
                if not data.get(field):
                    self.add_error(field, _("Choose the column that holds it."))
        chosen = [data.get(f) for f in self.column_fields() if data.get(f)]
        if len(chosen) != len(set(chosen)):
            self.add_error(None, _("A column is chosen for two fields: each column holds one."))
        return data

    def column_fields(self) -> list[str]:
        amounts = ["amount"] if self.cleaned_data.get("layout") == AMOUNT else ["debit", "credit"]
        return [*REQUIRED, *amounts, *OPTIONAL]

    def mapping(self) -> Mapping:
        data = self.cleaned_data
        columns = {f: int(data[f]) if data.get(f) else None for f in self.column_fields()}
        return Mapping(date_format=data["date_format"], decimal=data["decimal"], **columns)  # type: ignore[arg-type]
