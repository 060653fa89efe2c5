"""Operations console for Qoyod sync: the retry queue, attempt log, links and the connection.

Machine fields are read-only; the one action calls the same service as the Retry button.
"""

from __future__ import annotations

from typing import cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin, ReadOnlyTabularInline
from core.http import AuthenticatedHttpRequest
from qoyod_sync import models, push


class InRetryQueueFilter(admin.SimpleListFilter):
    title = _("retry queue")
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", _("In the retry queue"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            # The changelist's queryset comes from QoyodInvoiceSync.objects, so it has the method.
            return cast(models.QoyodInvoiceSyncQuerySet, queryset).in_retry_queue()
        return queryset


class StateChangeInline(ReadOnlyTabularInline):
    model = models.QoyodSyncStateChange
    fields = ("changed_at", "from_state", "to_state", "changed_by", "reason", "qoyod_message")
    readonly_fields = fields

    @admin.display(description=_("reason"))
    def reason(self, obj: models.QoyodSyncStateChange) -> str:
        return obj.reason


@admin.register(models.QoyodInvoiceSync)
class QoyodInvoiceSyncAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "invoice",
        "state",
        "failure_kind",
        "attempts",
        "last_attempt_at",
        "last_attempt_by",
        "qoyod_invoice_id",
        "total_difference",
    ]
    list_filter = [InRetryQueueFilter, "state", "failure_kind"]
    search_fields = ["invoice__number", "invoice__customer_name", "qoyod_invoice_id"]
    list_select_related = ["invoice", "last_attempt_by"]
    readonly_fields = ["reason", *(f.name for f in models.QoyodInvoiceSync._meta.fields)]
    inlines = [StateChangeInline]
    actions = ["retry"]

    @admin.display(description=_("reason"))
    def reason(self, obj: models.QoyodInvoiceSync) -> str:
        return obj.reason

    @admin.action(description=_("Retry Qoyod sync"), permissions=["send"])
    def retry(self, request: AuthenticatedHttpRequest, queryset: QuerySet) -> None:
        for sync in queryset.select_related("invoice"):
            try:
                result = push.invoice_send_draft(
                    invoice=sync.invoice, user=request.user, retry=True
                )
            except push.SendRefused as exc:
                self.message_user(request, exc.messages[0], messages.WARNING)
            else:
                level = messages.SUCCESS if result.ok else messages.ERROR
                self.message_user(request, result.message, level)

    def has_send_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("qoyod_sync.send_invoice")


@admin.register(models.QoyodAttempt)
class QoyodAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "invoice", "step", "target", "outcome", "http_status", "user"]
    list_filter = ["step", "outcome"]
    search_fields = ["invoice__number", "target", "message"]
    list_select_related = ["invoice", "user"]
    readonly_fields = ["detail", *(f.name for f in models.QoyodAttempt._meta.fields)]

    @admin.display(description=_("what went wrong"))
    def detail(self, obj: models.QoyodAttempt) -> str:
        return obj.detail


@admin.register(models.QoyodConnection)
class QoyodConnectionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Edited on the settings page only, where the allowed hosts are checked and a new base URL
    # clears the key. The key is never shown here: only its last four characters.
    list_display = ["base_url", "api_key_hint", "last_tested_at", "last_test_ok"]
    fields = ("base_url", "api_key_hint", "tax_id", "unit_id", "category_id",
              "sales_account_id", "cogs_account_id", "last_tested_at", "last_test_ok",
              "last_test_message", "last_test_qoyod_message", "updated_by",
              "updated_at")  # fmt: skip


# The warehouse choice is made on the settings page against Qoyod's list; links are written by
# the push the moment Qoyod returns an id. A hand-edited id would send documents to the wrong
# Qoyod customer, product or warehouse.
@admin.register(models.BranchWarehouse)
class BranchWarehouseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["branch", "qoyod_inventory_id", "name", "updated_at"]
    list_select_related = ["branch"]


@admin.register(models.QoyodCustomerLink)
class QoyodCustomerLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["customer", "qoyod_id", "matched_by", "linked_at"]
    list_filter = ["matched_by"]
    search_fields = ["customer__name_en", "customer__name_ar", "customer__phone", "qoyod_id"]
    list_select_related = ["customer"]
    readonly_fields = ["linked_at"]


@admin.register(models.QoyodProductLink)
class QoyodProductLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sku", "qoyod_id", "service_item", "spare_part", "matched_by", "linked_at"]
    list_filter = ["matched_by"]
    search_fields = ["sku", "qoyod_id"]
    list_select_related = ["service_item", "spare_part"]
    readonly_fields = ["linked_at"]


@admin.register(models.QoyodStockAdjustment)
class QoyodStockAdjustmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "branch", "invoice", "state", "qoyod_id", "created_by"]
    list_filter = ["state", "branch"]
    readonly_fields = ["reason", *(f.name for f in models.QoyodStockAdjustment._meta.fields)]


class CreditNoteLineInline(ReadOnlyTabularInline):
    model = models.QoyodCreditNoteLine
    fields = ("invoice_line", "quantity", "unit_price", "discount", "vat_rate", "line_total")
    readonly_fields = fields


class CreditNoteChangeInline(ReadOnlyTabularInline):
    model = models.QoyodCreditNoteChange
    fields = ("changed_at", "from_state", "to_state", "changed_by", "reason", "qoyod_message")
    readonly_fields = fields

    @admin.display(description=_("reason"))
    def reason(self, obj: models.QoyodCreditNoteChange) -> str:
        return obj.reason


# Issued and sent from the invoice page only, by the claim in qoyod_sync/credit.py: an edit
# here would make the note disagree with the one Qoyod holds.
@admin.register(models.QoyodCreditNote)
class QoyodCreditNoteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "invoice", "issue_date", "total", "state", "qoyod_id",
                    "qoyod_status", "attempts", "created_by"]  # fmt: skip
    list_filter = ["state", "qoyod_status"]
    search_fields = ["number", "invoice__number", "qoyod_id"]
    list_select_related = ["invoice", "created_by"]
    readonly_fields = ["reason", *(f.name for f in models.QoyodCreditNote._meta.fields)]
    inlines = [CreditNoteLineInline, CreditNoteChangeInline]

    @admin.display(description=_("reason"))
    def reason(self, obj: models.QoyodCreditNote) -> str:
        return obj.reason
