"""HTML forms for the garage pages: they parse and check input; garage.services writes it."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import roles
from core.arabic import isolate, ltr_isolate
from core.fields import MoneyFormField, QuantityFormField
from core.forms import BootstrapFormMixin
from core.money import plain_text
from garage import master, validators
from garage.models import (
    MAX_ODOMETER_KM,
    Branch,
    Customer,
    JobLine,
    ServiceItem,
    SparePart,
    Vehicle,
)
from garage.tax import TaxCategory


class CustomerForm(BootstrapFormMixin, forms.ModelForm):
    # Wider than the stored columns: people type spaces, +966 and Arabic digits.
    phone = forms.CharField(label=capfirst(_("mobile")), max_length=20)
    vat_number = forms.CharField(label=_("VAT number"), max_length=30, required=False)

    class Meta:
        model = Customer
        fields = [
            "kind",
            "name_en",
            "name_ar",
            "phone",
            "email",
            "vat_number",
            "cr_number",
            "building_number",
            "street",
            "district",
            "city",
            "postal_code",
        ]
        widgets = {"name_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The finance system owns a known customer's master fields: shown, not editable (a
        # disabled field keeps the stored value whatever is posted).
        self.master_note = ""
        if master.finance_is_master() and self.instance.pk is not None:
            for name in master.MASTER_FIELDS:
                self.fields[name].disabled = True
            self.master_note = master.master_owner_text()

    def clean_phone(self) -> str:
        return validators.normalise_phone(self.cleaned_data["phone"])

    def clean_vat_number(self) -> str:
        value = self.cleaned_data["vat_number"]
        return validators.normalise_vat_number(value) if value else ""


# An option is plain text, so isolate marks rather than <bdi>: an Arabic name beside "+966…"
# would otherwise reorder the phone number's "+", and a plate its digits and letters.
class CustomerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Customer) -> str:
        return f"{isolate(obj.name)} · {ltr_isolate(obj.phone)}"


class VehicleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Vehicle) -> str:
        return f"{ltr_isolate(obj.plate_number)} · {isolate(obj.name)}"


class TechnicianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class VehicleForm(BootstrapFormMixin, forms.ModelForm):
    customer = CustomerChoiceField(label=capfirst(_("customer")), queryset=Customer.objects.all())
    # Arabic plates are typed with spaces between letters, longer than the stored form.
    plate_number = forms.CharField(
        label=capfirst(_("plate number")),
        max_length=20,
        help_text=_("Arabic or Latin letters, e.g. 1234 ABJ or ١٢٣٤ ا ب ح"),
    )
    vin = forms.CharField(label=_("VIN"), max_length=30, required=False)

    class Meta:
        model = Vehicle
        fields = ["customer", "plate_number", "make", "model", "year", "colour", "vin", "odometer"]

    def clean_plate_number(self) -> str:
        # Normalised here so the unique check compares stored forms ("1234 ABJ").
        return validators.normalise_plate(self.cleaned_data["plate_number"])

    def clean_vin(self) -> str:
        value = self.cleaned_data["vin"]
        return validators.normalise_vin(value) if value else ""


class JobCardCreateForm(BootstrapFormMixin, forms.Form):
    # Each form runs its own copy of these querysets (ModelChoiceField clones them).
    branch = forms.ModelChoiceField(
        label=capfirst(_("branch")), queryset=Branch.objects.filter(is_active=True)
    )
    customer = CustomerChoiceField(
        label=capfirst(_("customer")), queryset=Customer.objects.filter(is_active=True)
    )
    vehicle = VehicleChoiceField(label=capfirst(_("vehicle")), queryset=Vehicle.objects.none())
    technician = TechnicianChoiceField(
        label=capfirst(_("technician")),
        queryset=get_user_model()
        .objects.filter(is_active=True, groups__name=roles.TECHNICIAN)
        .order_by("first_name", "username"),
        required=False,
    )
    complaint = forms.CharField(
        label=capfirst(_("complaint")), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    odometer_in = forms.IntegerField(
        label=capfirst(_("odometer in (km)")),
        min_value=0,
        max_value=MAX_ODOMETER_KM,
        required=False,
    )
    # New with every blank form and sent back with it, so the job it opens can be recognised
    # when the same form is posted again. Optional: a form without one still opens its job.
    form_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, customer: Customer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("form_token", uuid.uuid4())
        vehicles = Vehicle.objects.select_related("customer")
        # Offer only the chosen customer's vehicles, but accept any vehicle on submit so a
        # mismatch gets the specific message from clean() rather than "not a valid choice".
        if customer is not None and not self.is_bound:
            vehicles = vehicles.filter(customer=customer)
        cast(forms.ModelChoiceField, self.fields["vehicle"]).queryset = vehicles

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        customer, vehicle = cleaned.get("customer"), cleaned.get("vehicle")
        if customer and vehicle and vehicle.customer_id != customer.pk:
            self.add_error("vehicle", _("This vehicle belongs to another customer."))
        return cleaned


class JobLineForm(BootstrapFormMixin, forms.Form):
    """One select lists services and parts; the chosen option says which kind the line is.

    Without `can_set_price` there is no price field: a posted price is ignored and the line
    gets the catalogue price.
    """

    item = forms.ChoiceField(label=_("Service or part"))
    quantity = QuantityFormField(label=capfirst(_("quantity")), initial=Decimal("1"))
    unit_price = MoneyFormField(
        label=capfirst(_("unit price")),
        required=False,
        help_text=_("Leave empty for the catalogue price."),
    )

    def __init__(
        self,
        *args: Any,
        services: QuerySet[ServiceItem],
        parts: QuerySet[SparePart],
        can_set_price: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if can_set_price:
            self.fields["unit_price"].widget.attrs.update(step="0.01", inputmode="decimal")
        else:
            del self.fields["unit_price"]
        self._services = {str(s.pk): s for s in services}
        self._parts = {str(p.pk): p for p in parts}
        cast(forms.ChoiceField, self.fields["item"]).choices = [
            ("", "---------"),
            (
                _("Services"),
                [(f"{JobLine.Kind.SERVICE}:{pk}", _service_label(s))
                 for pk, s in self._services.items()],
            ),
            (
                _("Spare parts"),
                [(f"{JobLine.Kind.PART}:{pk}", _part_label(p)) for pk, p in self._parts.items()],
            ),
        ]  # fmt: skip
        self.fields["quantity"].widget.attrs.update(step="any", inputmode="decimal")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("item"):
            # ChoiceField has already checked the value is one of the options built above.
            kind, _sep, pk = cleaned["item"].partition(":")
            catalogue = self._services if kind == JobLine.Kind.SERVICE else self._parts
            cleaned["kind"] = kind
            cleaned["item"] = catalogue[pk]
        return cleaned


def _service_label(service: ServiceItem) -> str:
    return f"{ltr_isolate(service.code)} · {isolate(service.name)}"


def _part_label(part: SparePart) -> str:
    # The part queryset is annotated with the stock at the job's branch (selectors).
    available = getattr(part, "available", None)
    if available is None:
        return f"{ltr_isolate(part.sku)} · {isolate(part.name)}"
    return gettext("%(sku)s · %(name)s (%(available)s in stock)") % {
        "sku": ltr_isolate(part.sku),
        "name": isolate(part.name),
        "available": plain_text(available),
    }


class TaxCategoryFormMixin(forms.ModelForm):
    """A catalogue item's VAT category; left out of a post, the item stays standard-rated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tax_category"].required = False

    def clean_tax_category(self) -> str:
        return self.cleaned_data.get("tax_category") or TaxCategory.STANDARD


class SparePartForm(TaxCategoryFormMixin, BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = SparePart
        fields = [
            "sku", "name_en", "name_ar", "sale_price", "cost", "vat_rate", "tax_category",
            "vat_exemption_code", "is_active",
        ]  # fmt: skip
        widgets = {"name_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"})}


class ServiceItemForm(TaxCategoryFormMixin, BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = ServiceItem
        fields = [
            "code", "name_en", "name_ar", "default_price", "vat_rate", "tax_category",
            "vat_exemption_code", "is_active",
        ]  # fmt: skip
        widgets = {"name_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"})}


class StockReceiveForm(BootstrapFormMixin, forms.Form):
    branch = forms.ModelChoiceField(
        label=capfirst(_("branch")), queryset=Branch.objects.filter(is_active=True)
    )
    quantity = QuantityFormField(label=_("Quantity received"))
    # Stored as "received: <note>" in StockMovement.reason (100 characters).
    reason = forms.CharField(
        label=_("Note"),
        max_length=90,
        required=False,
        help_text=_("e.g. supplier invoice"),
    )

    def clean_quantity(self) -> Decimal:
        quantity = self.cleaned_data["quantity"]
        # Write-offs are a different action; receiving is always an increase.
        if quantity <= 0:
            raise ValidationError(_("The quantity must be more than zero."))
        return quantity
