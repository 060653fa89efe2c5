"""Operations console for invoices: find, inspect and audit; changes are made in the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin, ReadOnlyTabularInline
from invoicing.custom_fields import allowed_values_clean, custominvoicefield_save
from invoicing.models import (
    CustomInvoiceField,
    Invoice,
    InvoiceEvent,
    InvoiceFinanceChange,
    InvoiceLine,
    InvoiceStatusChange,
)
from invoicing.selectors import invoice_search_q

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _LineCount(TypedDict):
    _line_count: int


class InvoiceLineInline(ReadOnlyTabularInline):
    model = InvoiceLine
    fields = (
        "position",
        "kind",
        "service_item",
        "spare_part",
        "description_en",
        "quantity",
        "unit_price",
        "price_includes_vat",
        "discount",
        "vat_rate",
        "line_net",
        "line_vat",
        "vat_adjustment",
        "line_total",
    )
    readonly_fields = fields


class InvoiceStatusChangeInline(ReadOnlyTabularInline):
    model = InvoiceStatusChange
    fields = ("changed_at", "from_status", "to_status", "note", "changed_by")
    readonly_fields = fields


class InvoiceEventInline(ReadOnlyTabularInline):
    model = InvoiceEvent
    fields = ("created_at", "kind", "details", "created_by")
    readonly_fields = fields

    @admin.display(description=_("note"))
    def note(self, obj: InvoiceStatusChange) -> str:
        return obj.note


class InvoiceFinanceChangeInline(ReadOnlyTabularInline):
    model = InvoiceFinanceChange
    fields = ("changed_at", "from_state", "to_state", "note", "client_label")
    readonly_fields = fields

    @admin.display(description=_("note"))
    def note(self, obj: InvoiceFinanceChange) -> str:
        return obj.note


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "issue_date",
        "customer_name",
        "vehicle_plate",
        "branch",
        "total",
        "amount_paid",
        "balance",
        "status",
        "requires_qoyod",
        "qoyod_managed",
        "line_count",
        "replaces",
    ]
    list_filter = [
        "status",
        "requires_qoyod",
        "qoyod_managed",
        "finance_state",
        "branch",
        "issue_date",
    ]
    # Shows the search box; get_search_results does the matching.
    search_fields = ["number"]
    search_help_text = _("Number, job, customer, mobile, VAT number or plate (Arabic or Latin).")
    list_select_related = ["branch", "replaces"]
    date_hierarchy = "issue_date"
    show_full_result_count = False
    inlines = [
        InvoiceLineInline,
        InvoiceStatusChangeInline,
        InvoiceEventInline,
        InvoiceFinanceChangeInline,
    ]
    # Written by invoicing.services only. Even the notes are printed on the invoice, so they
    # change on the invoice page, which refuses paid, void and Qoyod-managed invoices and
    # records the edit; listed here so the change page shows the non-editable fields too.
    readonly_fields = [
        "number",
        "job",
        "branch",
        "customer",
        "vehicle",
        "customer_name",
        "customer_name_ar",
        "customer_phone",
        "customer_vat_number",
        "customer_address",
        "vehicle_description",
        "vehicle_plate",
        "issue_date",
        "due_date",
        "net_total",
        "vat_total",
        "total",
        "amount_paid",
        "balance",
        "requires_qoyod",
        "qoyod_managed",
        "status",
        "void_reason",
        "replaces",
        "created_by",
        "created_at",
        "updated_at",
        "notes",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Invoice]:
        return super().get_queryset(request).annotate(_line_count=Count("lines"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Invoice], search_term: str
    ) -> tuple[QuerySet[Invoice], bool]:
        # The invoice page's search, so plates typed in Arabic letters and mobiles in any
        # spelling are found here too.
        if not search_term.strip():
            return queryset, False
        q = invoice_search_q(search_term) | Q(job__number__icontains=search_term.strip())
        return queryset.filter(q | Q(customer_vat_number__contains=search_term.strip())), False

    @admin.display(description=_("lines"), ordering="_line_count")
    def line_count(self, obj: WithAnnotations[Invoice, _LineCount]) -> int:
        return obj._line_count


class CustomInvoiceFieldForm(forms.ModelForm):
    class Meta:
        model = CustomInvoiceField
        fields = [
            "customer", "heading_en", "heading_ar", "help_text", "required", "allowed_values",
            "position", "is_active",
        ]  # fmt: skip

    def clean_allowed_values(self) -> list[str]:
        return allowed_values_clean(self.cleaned_data["allowed_values"] or [])


@admin.register(CustomInvoiceField)
class CustomInvoiceFieldAdmin(admin.ModelAdmin):
    """A customer's invoice fields (e.g. its PO number), filled on each of its invoices."""

    form = CustomInvoiceFieldForm
    list_display = ["heading_en", "heading_ar", "customer", "required", "position", "is_active"]
    list_filter = ["required", "is_active"]
    search_fields = ["heading_en", "heading_ar", "customer__name_en", "customer__name_ar"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]

    def save_model(
        self, request: HttpRequest, obj: CustomInvoiceField, form: forms.ModelForm, change: bool
    ) -> None:
        custominvoicefield_save(field=obj)
