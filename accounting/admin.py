"""Operations console for accounting: the budget list and staff branches are managed here;
transactions and their history are records the services write, so they are read-only."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounting import models
from accounting.sync import transaction_receipts_link_revoke
from core import roles
from core.admin import ReadOnlyAdminMixin, ReadOnlyTabularInline


@admin.register(models.Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ["name_en", "name_ar", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name_en", "name_ar"]


@admin.register(models.StaffBranch)
class StaffBranchAdmin(admin.ModelAdmin):
    list_display = ["user", "branch"]
    list_filter = ["branch"]
    autocomplete_fields = ["user"]


class TransactionEventInline(ReadOnlyTabularInline):
    model = models.TransactionEvent
    fields = ["at", "kind", "user", "details"]


class ReceiptInline(ReadOnlyTabularInline):
    model = models.Receipt
    fields = ["file", "content_type", "size", "original_name", "uploaded_by", "uploaded_at"]


@admin.register(models.Transaction)
class TransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "date", "kind", "amount", "vat_amount", "branch", "state"]
    list_filter = ["kind", "state", "branch"]
    search_fields = ["number", "payee", "description"]
    list_select_related = ["branch"]
    inlines = [ReceiptInline, TransactionEventInline]
    actions = ["revoke_receipts_link"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_superuser or user.groups.filter(name=roles.ADMIN).exists()

    @admin.action(
        description=_lazy("Revoke the receipts link (the link in Qoyod stops working)"),
        permissions=["revoke"],
    )
    def revoke_receipts_link(
        self, request: HttpRequest, queryset: QuerySet[models.Transaction]
    ) -> None:
        rows = list(queryset)
        for row in rows:
            transaction_receipts_link_revoke(row=row, user=request.user)  # type: ignore[arg-type]
        done = _("Receipts link replaced for %(count)s transaction(s).")
        self.message_user(request, done % {"count": len(rows)})
