"""HTML forms for invoices: they parse and check input; invoicing.services computes and writes."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.fields import BoundedDateFormField, MoneyFormField, QuantityFormField
from core.forms import BootstrapFormMixin
from core.money import to_plain
from garage.forms import CustomerChoiceField, VehicleChoiceField
from garage.models import Customer, ServiceItem, SparePart, Vehicle
from invoicing.custom_fields import MAX_VALUE_LENGTH, form_key
from invoicing.models import CustomInvoiceField, InvoiceLine
from invoicing.services import LineData

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from core.calculations import LineResult

HUNDRED = Decimal("100")
Kind = InvoiceLine.Kind


class LineLike(Protocol):
    """What LineData (a prefilled line) and InvoiceLine (a saved one) have in common; read-only,
    as LineData is frozen."""

    @property
    def kind(self) -> str: ...
    @property
    def description_en(self) -> str: ...
    @property
    def description_ar(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def vat_rate(self) -> Decimal: ...
    @property
    def discount(self) -> Decimal: ...
    @property
    def price_includes_vat(self) -> bool: ...
    @property
    def item(self) -> ServiceItem | SparePart | None: ...


def add_service_error(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def item_key(kind: str, item: ServiceItem | SparePart | None) -> str:
    """The value of a line's item select: which kind, which catalogue row."""
    return f"{kind}:{item.pk}" if item is not None else ""


def line_initial(line: LineLike) -> dict[str, Any]:
    """Initial data of a line form from a prefilled or saved line."""
    return {
        "item": item_key(line.kind, line.item),
        "description_en": line.description_en,
        "description_ar": line.description_ar,
        "quantity": to_plain(line.quantity),
        "unit_price": line.unit_price,
        "price_includes_vat": line.price_includes_vat,
        "discount": line.discount,
        "vat_percent": to_plain(line.vat_rate * HUNDRED),
    }


def catalogue_line_initial(kind: str, item: ServiceItem | SparePart) -> dict[str, Any]:
    """Initial data of a new line for a catalogue item at its list price and VAT rate."""
    price = item.default_price if isinstance(item, ServiceItem) else item.sale_price
    return {
        "item": item_key(kind, item),
        "description_en": item.name_en,
        "description_ar": item.name_ar,
        "quantity": Decimal("1"),
        "unit_price": price,
        "price_includes_vat": False,
        "discount": Decimal("0.00"),
        "vat_percent": to_plain(item.vat_rate * HUNDRED),
    }


class Catalogue:
    """Services and parts a line may link to, loaded once and shared by every line form."""

    def __init__(self, services: dict[int, ServiceItem], parts: dict[int, SparePart]) -> None:
        self.services = services
        self.parts = parts
        service_choices = [
            (item_key(Kind.SERVICE, s), _label(s.code, s)) for s in services.values()
        ]
        part_choices = [(item_key(Kind.PART, p), _label(p.sku, p)) for p in parts.values()]
        self.choices: list[Any] = [
            ("", "---------"),
            (_("Services"), service_choices),
            (_("Spare parts"), part_choices),
        ]

    def lookup(self, key: str) -> tuple[str, ServiceItem | SparePart] | None:
        kind, _sep, pk = key.partition(":")
        table: dict[int, Any] = self.services if kind == Kind.SERVICE else self.parts
        try:
            item = table.get(int(pk))
        except ValueError:
            return None
        return (kind, item) if item is not None else None


def _label(code: str, item: ServiceItem | SparePart) -> str:
    return f"{code} · {item.name}"


class InvoiceLineForm(BootstrapFormMixin, forms.Form):
    # The calculator's figures for this line, hung on the form by the edit page.
    result: LineResult | None = None
    # One select for services and parts: the chosen option decides the line's kind.
    item = forms.ChoiceField(label=_("Service or part"))
    description_en = forms.CharField(label=_("Description"), max_length=300)
    description_ar = forms.CharField(
        label=_("Description (Arabic)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
    )
    quantity = QuantityFormField(label=_("Quantity"))
    unit_price = MoneyFormField(label=_("Unit price"), min_value=Decimal("0"))
    price_includes_vat = forms.BooleanField(label=_("Price includes VAT"), required=False)
    discount = MoneyFormField(label=_("Discount (SAR)"), min_value=Decimal("0"), required=False)
    vat_percent = forms.DecimalField(
        label=_("VAT %"), max_digits=6, decimal_places=2, min_value=Decimal("0")
    )

    def __init__(self, *args: Any, catalogue: Catalogue, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        cast(forms.ChoiceField, self.fields["item"]).choices = catalogue.choices
        for name in ("quantity", "unit_price", "discount", "vat_percent"):
            self.fields[name].widget.attrs.update(step="any", inputmode="decimal")

    @property
    def kind_label(self) -> StrOrPromise:
        """Service or Spare part, from the item currently chosen (bound or initial)."""
        key = self["item"].value() or ""
        kind = key.partition(":")[0]
        return Kind(kind).label if kind in Kind.values else ""

    def clean_item(self) -> str:
        key = self.cleaned_data["item"]
        if self.catalogue.lookup(key) is None:
            raise ValidationError(_("Choose a service or a spare part."))
        return key

    def clean_quantity(self) -> Decimal:
        quantity = self.cleaned_data["quantity"]
        if quantity <= 0:
            raise ValidationError(_("The quantity must be more than zero."))
        return quantity

    def clean_discount(self) -> Decimal:
        return self.cleaned_data["discount"] or Decimal("0")

    def clean_vat_percent(self) -> Decimal:
        percent = self.cleaned_data["vat_percent"]
        if percent >= HUNDRED:
            raise ValidationError(_("Enter VAT in percent, e.g. 15."))
        return percent

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        quantity, price = cleaned.get("quantity"), cleaned.get("unit_price")
        discount = cleaned.get("discount")
        if quantity and price is not None and discount and discount > quantity * price:
            self.add_error("discount", _("The discount cannot be more than the line amount."))
        return cleaned

    def line_data(self) -> LineData:
        data = self.cleaned_data
        found = self.catalogue.lookup(data["item"])
        assert found is not None, "clean_item() accepted an unknown item"
        kind, item = found
        return LineData(
            kind=kind,
            item=item,
            description_en=data["description_en"],
            description_ar=data["description_ar"],
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            vat_rate=data["vat_percent"] / HUNDRED,
            discount=data["discount"],
            price_includes_vat=data["price_includes_vat"],
            tax_category=item.tax_category,
            vat_exemption_code=item.vat_exemption_code,
        )


class BaseInvoiceLineFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if not any(self.errors) and not self.kept_forms():
            raise ValidationError(_("An invoice needs at least one line."))

    def kept_forms(self) -> list[InvoiceLineForm]:
        """The line forms not ticked for deletion, in page order."""
        return [
            f
            for f in self.forms
            if not (self.can_delete and f.cleaned_data.get(forms.formsets.DELETION_FIELD_NAME))
        ]

    def line_data(self) -> list[LineData]:
        return [form.line_data() for form in self.kept_forms()]


MAX_LINES = 200
# A subclass of `formset`, which the stub of formset_factory does not say.
InvoiceLineFormSet = cast(
    type[BaseInvoiceLineFormSet],
    forms.formset_factory(
        InvoiceLineForm,
        formset=BaseInvoiceLineFormSet,
        extra=0,
        can_delete=True,
        max_num=MAX_LINES,
        validate_max=True,
    ),
)
LINES_PREFIX = "lines"


def line_formset(
    *, catalogue: Catalogue, data: Any = None, initial: list[dict[str, Any]] | None = None
) -> BaseInvoiceLineFormSet:
    return InvoiceLineFormSet(
        data=data, initial=initial, prefix=LINES_PREFIX, form_kwargs={"catalogue": catalogue}
    )


class InvoiceForm(BootstrapFormMixin, forms.Form):
    customer = CustomerChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    vehicle = VehicleChoiceField(label=_("Vehicle"), queryset=Vehicle.objects.none())
    issue_date = BoundedDateFormField(
        label=_("Issue date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    due_date = BoundedDateFormField(
        label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    requires_qoyod = forms.BooleanField(
        label=_("Requires Qoyod invoice"),
        required=False,
        help_text=_("Send this invoice to Qoyod as a draft; payments are then recorded there."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        *args: Any,
        customers: Any,
        vehicles: Any,
        custom_fields: Iterable[CustomInvoiceField] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The chosen customer's invoice fields; invoicing.custom_fields checks them again.
        self.custom_fields = list(custom_fields)
        for field in self.custom_fields:
            entry: forms.Field
            if field.allowed_values:
                choices = [("", "—"), *((v, v) for v in field.allowed_values)]
                entry = forms.ChoiceField(choices=choices)
                entry.widget.attrs["class"] = "form-select"
            else:
                entry = forms.CharField(max_length=MAX_VALUE_LENGTH)
                entry.widget.attrs["class"] = "form-control"
            entry.label, entry.help_text = field.heading, field.help_text
            entry.required = field.required
            self.fields[form_key(field.pk)] = entry
        cast(forms.ModelChoiceField, self.fields["customer"]).queryset = customers
        # On submit any vehicle is accepted so that a vehicle of another customer gets the
        # specific message from clean() instead of "not one of the available choices".
        cast(forms.ModelChoiceField, self.fields["vehicle"]).queryset = (
            Vehicle.objects.select_related("customer") if self.is_bound else vehicles
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        customer, vehicle = cleaned.get("customer"), cleaned.get("vehicle")
        if customer and vehicle and vehicle.customer_id != customer.pk:
            self.add_error("vehicle", _("This vehicle belongs to another customer."))
        issue, due = cleaned.get("issue_date"), cleaned.get("due_date")
        if issue and due and due < issue:
            self.add_error("due_date", _("The due date cannot be before the issue date."))
        return cleaned

    def custom_bound_fields(self) -> list[forms.BoundField]:
        return [self[form_key(field.pk)] for field in self.custom_fields]

    def custom_values(self) -> dict[int, str]:
        data = self.cleaned_data
        return {field.pk: data.get(form_key(field.pk), "") for field in self.custom_fields}


class VoidForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown in the invoice's history, e.g. wrong customer or wrong price."),
    )
