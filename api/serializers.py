"""What the API answers. Money is a two-place decimal string (api.fields.MoneyField), dates and
times are ISO 8601, and every error has the shape of api.exceptions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import (
    REFERENCE_PATTERN,
    AmountField,
    MoneyField,
    PlainDecimalField,
    reference_field,
)
from api.models import Sale
from garage.models import Branch, ContactPerson, Customer, Vehicle
from invoicing.models import FinanceState, Invoice, InvoiceLine
from payments.models import Payment

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (api/exceptions.py)."""

    type = serializers.ChoiceField(choices=["validation_error", "client_error", "server_error"])
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )
    params = serializers.DictField(required=False)


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["code", "name_en", "name_ar"]


class NationalAddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["building_number", "street", "district", "city", "postal_code"]


class InvoiceCustomerSerializer(serializers.Serializer):
    """The customer as invoiced (names, mobile, VAT number are the invoice's snapshot) with the
    master record's CR number and national address."""

    id = serializers.IntegerField(source="customer_id")
    kind = serializers.CharField(source="customer.kind")
    name_en = serializers.CharField(source="customer_name")
    name_ar = serializers.CharField(source="customer_name_ar")
    phone = serializers.CharField(source="customer_phone")
    email = serializers.CharField(source="customer.email")
    vat_number = serializers.CharField(source="customer_vat_number")
    cr_number = serializers.CharField(source="customer.cr_number")
    national_address = NationalAddressSerializer(source="customer")


class VehicleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = ["make", "model", "year", "plate_number", "vin"]


class InvoiceLineSerializer(serializers.ModelSerializer):
    quantity = PlainDecimalField()
    unit_price = MoneyField()
    discount = MoneyField()
    vat_rate = PlainDecimalField()
    net = MoneyField(source="line_net")
    vat = MoneyField(source="line_vat")
    total = MoneyField(source="line_total")
    # ZATCA's VAT category (S, Z or E) and, when not S, its VATEX reason code.
    vat_category = serializers.CharField(source="tax_category")

    class Meta:
        model = InvoiceLine
        fields = [
            "position", "kind", "description_en", "description_ar", "quantity", "unit_price",
            "price_includes_vat", "discount", "vat_rate", "vat_category", "vat_exemption_code",
            "net", "vat", "total",
        ]  # fmt: skip


class TotalsSerializer(serializers.Serializer):
    currency = serializers.SerializerMethodField()
    net = MoneyField(source="net_total")
    vat = MoneyField(source="vat_total")
    total = MoneyField()
    paid = MoneyField(source="amount_paid")
    balance = MoneyField()

    def get_currency(self, invoice: Invoice) -> str:
        return "SAR"


class ProcessingSerializer(serializers.Serializer):
    """Where the invoice stands with the finance system (invoicing/processing.py)."""

    number = serializers.CharField()
    state = serializers.ChoiceField(source="finance_state", choices=FinanceState.choices)
    in_queue = serializers.ChoiceField(
        source="finance_queue_kind",
        choices=["invoice", "cancellation"],
        allow_null=True,
        help_text=_("Why the invoice is in the unprocessed queue; null when it is not."),
    )
    reference = serializers.CharField(source="finance_reference")
    cancellation_reference = serializers.CharField(source="finance_cancel_reference")
    failure_reason = serializers.CharField(source="finance_failure")


class CustomFieldValueSerializer(serializers.Serializer):
    """One of the customer's invoice fields as filled on this invoice (e.g. its PO number)."""

    heading_en = serializers.CharField()
    heading_ar = serializers.CharField()
    value = serializers.CharField()


class InvoiceDetailSerializer(serializers.ModelSerializer):
    version = serializers.SerializerMethodField()
    replaces = serializers.CharField(source="replaces.number", default=None, allow_null=True)
    replaced_by = serializers.SerializerMethodField()
    branch = BranchSerializer()
    customer = InvoiceCustomerSerializer(source="*")
    vehicle = VehicleSerializer()
    lines = InvoiceLineSerializer(many=True)
    totals = TotalsSerializer(source="*")
    processing = ProcessingSerializer(source="*")
    custom_fields = CustomFieldValueSerializer(many=True)

    class Meta:
        model = Invoice
        fields = [
            "id", "number", "status", "version", "replaces", "replaced_by", "issue_date",
            "due_date", "created_at", "branch", "customer", "vehicle", "lines", "totals",
            "custom_fields", "notes", "void_reason", "processing",
        ]  # fmt: skip

    def get_version(self, invoice: Invoice) -> int:
        """1 for the first issue, 2 for its first reissue, and so on."""
        return invoice.version  # type: ignore[attr-defined]

    def get_replaced_by(self, invoice: Invoice) -> str | None:
        replacement = getattr(invoice, "replaced_by", None)
        return replacement.number if replacement is not None else None


class QueueItemSerializer(serializers.Serializer):
    """One item of the unprocessed queue; GET the invoice for its full content."""

    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(
        source="finance_queue_kind",
        choices=["invoice", "cancellation"],
        help_text=_("cancellation: a void of an invoice already processed."),
    )
    status = serializers.ChoiceField(choices=Invoice.Status.choices)
    issue_date = serializers.DateField()
    branch = serializers.CharField(source="branch.code")
    total = MoneyField()
    queued_at = serializers.DateTimeField(source="finance_queued_at")

    # What the fields read, finance_queue_kind included: the queue loads no more.
    COLUMNS = ("id", "number", "status", "issue_date", "total", "finance_queued_at",
               "finance_state", "requires_qoyod", "branch__code")  # fmt: skip

    def to_representation(self, invoice: Invoice) -> dict[str, Any]:
        # The queue page's hot loop: DRF's walk over the fields (get_attribute, None checks)
        # was most of a page's time. The same values straight from the attributes, through the
        # fields that format something; tests/api/test_invoices.py holds it to DRF's walk.
        fields = self.fields
        return {
            "id": invoice.pk,
            "number": invoice.number,
            "kind": invoice.finance_queue_kind,
            "status": invoice.status,
            "issue_date": fields["issue_date"].to_representation(invoice.issue_date),
            "branch": invoice.branch.code,
            "total": fields["total"].to_representation(invoice.total),
            "queued_at": fields["queued_at"].to_representation(invoice.finance_queued_at),
        }


class ProcessedSerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=100,
        help_text=_("The finance system's reference, e.g. its invoice number."),
    )

    def validate_reference(self, value: str) -> str:
        return _not_blank(value)


class FailedSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text=_("Why it could not be processed."))

    def validate_reason(self, value: str) -> str:
        return _not_blank(value)


def _not_blank(value: Any) -> str:
    # DRF trims whitespace already; control characters alone are no reference either.
    if not str(value).strip() or not str(value).isprintable():
        raise serializers.ValidationError(_("Send printable text."))
    return str(value)


class SalePaymentSerializer(serializers.Serializer):
    amount = AmountField()
    date = serializers.DateField()
    method = serializers.ChoiceField(choices=Payment.Method.choices)
    reference = reference_field(_("The finance system's payment reference; unique per payment."))


class SaleInSerializer(serializers.Serializer):
    invoice = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,25}$", max_length=25, help_text=_("Our invoice number.")
    )
    external_reference = reference_field(_("The finance system's invoice number."))
    due_date = serializers.DateField()
    payments = SalePaymentSerializer(many=True, required=False, max_length=100)  # type: ignore[call-arg]


class SaleSerializer(serializers.ModelSerializer):
    invoice = serializers.CharField(source="invoice.number")
    payment_status = serializers.SerializerMethodField()
    total = MoneyField(source="invoice.total")
    paid = MoneyField(source="invoice.amount_paid")
    balance = MoneyField(source="invoice.balance")
    payments = serializers.SerializerMethodField()

    class Meta:
        model = Sale
        fields = [
            "id", "invoice", "external_reference", "due_date", "payment_status", "total", "paid",
            "balance", "payments",
        ]  # fmt: skip

    @extend_schema_field(serializers.ChoiceField(choices=["unpaid", "partially_paid", "paid"]))
    def get_payment_status(self, sale: Sale) -> str:
        status = sale.invoice.status
        return "unpaid" if status == Invoice.Status.ISSUED else status

    @extend_schema_field(SalePaymentSerializer(many=True))
    def get_payments(self, sale: Sale) -> list[dict[str, Any]]:
        return [
            SalePaymentSerializer(
                {"amount": row.payment.amount, "date": row.payment.paid_on,
                 "method": row.payment.method, "reference": row.external_reference}
            ).data
            for row in sale.payments.all()
        ]  # fmt: skip


class ContactPersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPerson
        fields = [
            "id", "name", "job_title", "phone", "email", "external_reference", "created_at",
            "updated_at",
        ]  # fmt: skip


class CustomerSerializer(serializers.ModelSerializer):
    """A customer's master data as the app holds it (not an invoice's snapshot)."""

    national_address = NationalAddressSerializer(source="*")
    contacts = ContactPersonSerializer(many=True)

    class Meta:
        model = Customer
        fields = [
            "id", "external_reference", "kind", "name_en", "name_ar", "phone", "email",
            "vat_number", "cr_number", "national_address", "is_active", "contacts",
            "created_at", "updated_at",
        ]  # fmt: skip


def _text(max_length: int, help_text: StrOrPromise = "") -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, help_text=help_text
    )


def _optional_reference(help_text: StrOrPromise) -> serializers.RegexField:
    """reference_field's references, or empty for none."""
    return serializers.RegexField(
        f"^({REFERENCE_PATTERN.strip('^$')})?$",
        max_length=100,
        required=False,
        allow_blank=True,
        help_text=help_text,
        error_messages={"invalid": _("Use letters, digits and ASCII signs (at most 100).")},
    )


class NationalAddressInSerializer(serializers.Serializer):
    building_number = _text(4, _("4 digits."))
    street = _text(200)
    district = _text(200)
    city = _text(100)
    postal_code = _text(5, _("5 digits."))


class CustomerInSerializer(serializers.Serializer):
    """A customer to create, or (PATCH) the fields to change. The phone is a Saudi mobile in any
    common spelling; a company needs a VAT number; one of the two names is needed."""

    external_reference = _optional_reference(
        _("The finance system's key for the customer; unique.")
    )
    kind = serializers.ChoiceField(choices=Customer.Kind.choices, required=False)
    name_en = _text(200)
    name_ar = _text(200)
    phone = serializers.CharField(max_length=20, help_text=_("e.g. +966 5X XXX XXXX"))
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    vat_number = _text(30, _("15 digits, starting and ending with 3."))
    cr_number = _text(10, _("Commercial registration: 10 digits."))
    national_address = NationalAddressInSerializer(required=False)


class ContactPersonInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    job_title = _text(100)
    phone = _text(20, _("A Saudi mobile, e.g. +966 5X XXX XXXX."))
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    external_reference = _optional_reference(_("The finance system's key for the contact."))
