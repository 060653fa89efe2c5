"""Forms of the Qoyod settings page: the connection (address and API key) and the mappings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from garage.models import Branch
from qoyod_sync import reconcile
from qoyod_sync.connection import base_url_refusal
from qoyod_sync.models import PaymentMethod, QoyodConnection

if TYPE_CHECKING:
    from django.http import QueryDict
    from django_stubs_ext import StrOrPromise

    Choices = list[tuple[str, StrOrPromise]]

_MIN_KEY_LENGTH = 8


class ConnectionForm(forms.Form):
    base_url = forms.URLField(
        label=_("Qoyod API address"),
        max_length=200,
        assume_scheme="https",
        help_text=_("https://api.qoyod.com/2.0 for your real books."),
        widget=forms.URLInput(attrs={"class": "form-control", "dir": "ltr"}),
    )
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        strip=True,
        # Never rendered back into the page: after saving only the last four characters show.
        widget=forms.PasswordInput(
            render_value=False, attrs={"class": "form-control", "autocomplete": "off", "dir": "ltr"}
        ),
    )

    def __init__(self, *args: Any, connection: QoyodConnection | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.connection = connection
        if connection is not None and connection.api_key_encrypted:
            self.fields["api_key"].help_text = _(
                "The saved key ends in %(last4)s. Leave this empty to keep it, or paste a new key "
                "to replace it. Changing the address removes the saved key unless you paste the "
                "key here too."
            ) % {"last4": connection.api_key_last4}
        else:
            self.fields["api_key"].help_text = _(
                "In Qoyod: Settings → General settings → API key, then Save there."
            )

    @property
    def _key_saved(self) -> bool:
        return self.connection is not None and bool(self.connection.api_key_encrypted)

    def clean_base_url(self) -> str:
        url = self.cleaned_data["base_url"].rstrip("/")
        refusal = base_url_refusal(url)
        if refusal is not None:
            raise ValidationError(refusal)
        return url

    def clean_api_key(self) -> str:
        key = self.cleaned_data["api_key"]
        if not key:
            if not self._key_saved:
                raise ValidationError(_("Paste the API key from Qoyod."))
            return ""
        if any(ch.isspace() or not ch.isprintable() or not ch.isascii() for ch in key):
            raise ValidationError(_("The key has spaces or unusual characters; copy it again."))
        if len(key) < _MIN_KEY_LENGTH:
            raise ValidationError(_("That is too short to be a Qoyod API key."))
        return key


def _choices(rows: Sequence[Mapping[str, Any]], label: str = "name") -> Choices:
    return [(str(row["id"]), f"{row[label]}") for row in rows]


class MappingsForm(forms.Form):
    """Per-branch warehouse and product defaults, offered from what Test connection read."""

    tax_id = forms.TypedChoiceField(label=_("Tax for new products"), coerce=int)
    unit_id = forms.TypedChoiceField(label=_("Unit for new products"), coerce=int)
    category_id = forms.TypedChoiceField(label=_("Category for new products"), coerce=int)
    sales_account_id = forms.TypedChoiceField(
        label=_("Sales account for parts and services"),
        help_text=_("Where Qoyod books the sales of each part and service it creates."),
        coerce=int,
        required=False,
        empty_value=None,
    )
    cogs_account_id = forms.TypedChoiceField(
        label=_("Cost of goods sold account for parts"),
        help_text=_("Where Qoyod books the cost of the spare parts it sells from stock."),
        coerce=int,
        required=False,
        empty_value=None,
    )
    payment_method = forms.TypedChoiceField(
        label=_("Payment method on invoices"),
        help_text=_("Printed on each draft; Qoyod needs it to approve under ZATCA phase 2."),
        coerce=int,
        required=False,
        empty_value=None,
    )
    stock_gain_account_id = forms.TypedChoiceField(
        label=_("Account for stock count gains"),
        help_text=_("Where Sync stock to Qoyod posts a count above Qoyod's stock."),
        coerce=int,
        required=False,
        empty_value=None,
    )
    stock_loss_account_id = forms.TypedChoiceField(
        label=_("Account for stock count losses"),
        help_text=_("Where Sync stock to Qoyod posts a count below Qoyod's stock."),
        coerce=int,
        required=False,
        empty_value=None,
    )

    def __init__(self, data: QueryDict | None = None, *, connection: QoyodConnection) -> None:
        initial = {
            "tax_id": connection.tax_id,
            "unit_id": connection.unit_id,
            "category_id": connection.category_id,
            "sales_account_id": connection.sales_account_id,
            "cogs_account_id": connection.cogs_account_id,
            "payment_method": connection.payment_method,
            "stock_gain_account_id": connection.stock_gain_account_id,
            "stock_loss_account_id": connection.stock_loss_account_id,
        }
        self.branches = list(Branch.objects.filter(is_active=True))
        mapped = dict(
            Branch.objects.filter(qoyod_warehouse__isnull=False).values_list(
                "pk", "qoyod_warehouse__qoyod_inventory_id"
            )
        )
        for branch in self.branches:
            initial[f"warehouse_{branch.pk}"] = mapped.get(branch.pk)
        super().__init__(data, initial=initial)
        catalogue = connection.catalogue
        taxes = [
            {**t, "label": f"{t['name']} ({t['percentage']}%)"} for t in catalogue.get("taxes", [])
        ]
        accounts = [
            {**a, "label": f"{a['code']} {a['name']}"} for a in catalogue.get("accounts", [])
        ]
        revenue = [a for a in accounts if a.get("type") == "Revenue"]
        expense = [a for a in accounts if a.get("type") == "Expense"]
        none: Choices = [("", _("— not set —"))]
        offered = {
            "tax_id": _choices(taxes, "label"),
            "unit_id": _choices(catalogue.get("units", [])),
            "category_id": _choices(catalogue.get("categories", [])),
            "sales_account_id": none + _choices(revenue, "label"),
            "cogs_account_id": none + _choices(expense, "label"),
            "payment_method": none
            + [(str(value), label) for value, label in PaymentMethod.choices],
            "stock_gain_account_id": none + _choices(accounts, "label"),
            "stock_loss_account_id": none + _choices(accounts, "label"),
        }
        for name, choices in offered.items():
            # Declared above as TypedChoiceFields.
            cast(forms.TypedChoiceField, self.fields[name]).choices = choices
        warehouses = _choices(catalogue.get("warehouses", []))
        for branch in self.branches:
            self.fields[f"warehouse_{branch.pk}"] = forms.TypedChoiceField(
                label=_("Warehouse of %(branch)s") % {"branch": branch.name},
                choices=[("", _("— not mapped —")), *warehouses],
                coerce=int,
                required=False,
                empty_value=None,
            )
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"

    @property
    def warehouse_fields(self) -> list[forms.BoundField]:
        return [self[f"warehouse_{branch.pk}"] for branch in self.branches]

    @property
    def default_fields(self) -> list[forms.BoundField]:
        names = ("tax_id", "unit_id", "category_id", "sales_account_id", "cogs_account_id")
        return [self[name] for name in names]

    @property
    def invoice_fields(self) -> list[forms.BoundField]:
        return [self["payment_method"]]

    @property
    def stock_fields(self) -> list[forms.BoundField]:
        return [self["stock_gain_account_id"], self["stock_loss_account_id"]]

    def warehouses(self) -> dict[int, int | None]:
        return {b.pk: self.cleaned_data[f"warehouse_{b.pk}"] for b in self.branches}


class StockSyncForm(forms.Form):
    """Which branch's stock Sync stock to Qoyod sets (only branches mapped to a warehouse)."""

    branch = forms.ModelChoiceField(queryset=Branch.objects.filter(qoyod_warehouse__isnull=False))


class ReconciliationForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("date_from"), data.get("date_to")
        if first and last:
            refusal = reconcile.range_refusal(date_from=first, date_to=last)
            if refusal is not None:
                raise ValidationError(refusal)
        return data


class DailyCloseForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.all())
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
