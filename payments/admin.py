"""Operations console for payments: counter payments and what was read back from Qoyod.

Both are audit trails written by services (payment_record, the Qoyod read-back), so nothing
here adds, changes or deletes them.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin
from payments.models import Payment, QoyodAllocation, QoyodPaymentState


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # A payment moves the invoice's paid amount and status, so it is never added, changed or
    # deleted here, where that bookkeeping would be skipped.
    list_display = (
        "invoice",
        "paid_on",
        "method",
        "amount",
        "reference",
        "created_by",
        "created_at",
    )
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


@admin.register(QoyodPaymentState)
class QoyodPaymentStateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "invoice",
        "qoyod_status",
        "qoyod_total",
        "qoyod_paid",
        "qoyod_due",
        "total_difference",
        "returned_by_accounting",
        "refreshed_at",
        "last_error",
        "qoyod_message",
    ]
    list_filter = ["qoyod_status", "returned_by_accounting"]
    search_fields = ["invoice__number", "invoice__customer_name", "invoice__vehicle_plate"]
    list_select_related = ["invoice"]
    readonly_fields = ["last_error"]

    @admin.display(description=_("last refresh error"))
    def last_error(self, obj: QoyodPaymentState) -> str:
        return obj.last_error


@admin.register(QoyodAllocation)
class QoyodAllocationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["invoice", "date", "amount", "source_type", "source_id", "qoyod_id"]
    list_filter = ["source_type", "date"]
    search_fields = ["invoice__number"]
    list_select_related = ["invoice"]
