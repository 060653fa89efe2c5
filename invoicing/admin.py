"""Operations console for invoices: find, inspect and audit; changes are made in the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin, ReadOnlyTabularInline
from invoicing.models import Invoice, InvoiceEvent, InvoiceLine, InvoiceStatusChange
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
    list_filter = ["status", "requires_qoyod", "qoyod_managed", "branch", "issue_date"]
    # Shows the search box; get_search_results does the matching.
    search_fields = ["number"]
    search_help_text = _("Number, job, customer, mobile, VAT number or plate (Arabic or Latin).")
    list_select_related = ["branch", "replaces"]
    date_hierarchy = "issue_date"
    show_full_result_count = False
    inlines = [InvoiceLineInline, InvoiceStatusChangeInline, InvoiceEventInline]
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
