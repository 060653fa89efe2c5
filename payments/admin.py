"""Operations console for counter payments: an audit trail, recorded only by payment_record."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "invoice",
        "paid_on",
        "method",
        "amount",
        "reference",
        "created_by",
        "created_at",
    ]
    list_filter = ["method", "paid_on"]
    search_fields = [
        "invoice__number",
        "reference",
        "invoice__customer_name",
        "invoice__vehicle_plate",
    ]
    list_select_related = ["invoice", "created_by"]
    date_hierarchy = "paid_on"
    readonly_fields = list_display

    # A payment moves the invoice's paid amount and status, so it is never added, changed or
    # deleted here, where that bookkeeping would be skipped.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
