from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.http import AuthenticatedHttpRequest
from garage import models, services

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _VehicleCount(TypedDict):
    _vehicles: int


class _TotalStock(TypedDict):
    _stock: Decimal | None


@admin.register(models.Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_ar", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name_en", "name_ar"]


class VehicleInline(admin.TabularInline):
    model = models.Vehicle
    extra = 0
    fields = ("plate_number", "make", "model", "year", "vin")
    readonly_fields = fields
    show_change_link = True
    can_delete = False


@admin.register(models.Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "name_en",
        "name_ar",
        "kind",
        "phone",
        "vat_number",
        "vehicle_count",
        "is_active",
    ]
    list_filter = ["kind", "is_active", "city"]
    search_fields = ["name_en", "name_ar", "phone", "vat_number", "cr_number", "email"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [VehicleInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(_vehicles=Count("vehicles"))

    @admin.display(description=_("vehicles"), ordering="_vehicles")
    def vehicle_count(self, obj: WithAnnotations[models.Customer, _VehicleCount]) -> int:
        return obj._vehicles


@admin.register(models.Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["plate_number", "make", "model", "year", "customer", "vin"]
    list_filter = ["make"]
    search_fields = ["plate_key", "plate_number", "vin", "customer__name_en", "customer__phone"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["plate_key", "created_at"]


@admin.register(models.ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_ar", "default_price", "vat_rate", "is_active"]
    list_filter = ["is_active", "vat_rate"]
    search_fields = ["code", "name_en", "name_ar"]


class PartStockInline(admin.TabularInline):
    model = models.PartStock
    extra = 0
    readonly_fields = ["branch", "quantity"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Stock only changes through stock_adjust / job completion, which leave a movement row.
        return False


@admin.register(models.SparePart)
class SparePartAdmin(admin.ModelAdmin):
    list_display = ["sku", "name_en", "name_ar", "sale_price", "cost", "total_stock", "is_active"]
    list_filter = ["is_active", "vat_rate"]
    search_fields = ["sku", "name_en", "name_ar"]
    inlines = [PartStockInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(_stock=Sum("stock__quantity"))

    @admin.display(description=_("stock"), ordering="_stock")
    def total_stock(self, obj: WithAnnotations[models.SparePart, _TotalStock]) -> object:
        return obj._stock


@admin.register(models.PartStock)
class PartStockAdmin(admin.ModelAdmin):
    list_display = ["part", "branch", "quantity"]
    list_filter = ["branch"]
    search_fields = ["part__sku", "part__name_en"]
    list_select_related = ["part", "branch"]
    readonly_fields = ["part", "branch", "quantity"]


@admin.register(models.StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    list_display = ["created_at", "part", "branch", "quantity", "reason", "job", "created_by"]
    list_filter = ["branch", "reason"]
    search_fields = ["part__sku", "job__number"]
    list_select_related = ["part", "branch", "job", "created_by"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class JobLineInline(admin.TabularInline):
    model = models.JobLine
    extra = 0
    fields = ("kind", "service_item", "spare_part", "description", "quantity", "unit_price")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class JobStatusChangeInline(admin.TabularInline):
    model = models.JobStatusChange
    extra = 0
    readonly_fields = ["from_status", "to_status", "changed_by", "changed_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(models.JobCard)
class JobCardAdmin(admin.ModelAdmin):
    list_display = ["number", "status", "branch", "customer", "vehicle", "technician", "created_at"]
    list_filter = ["status", "branch"]
    search_fields = ["number", "vehicle__plate_key", "customer__name_en", "customer__phone"]
    list_select_related = ["branch", "customer", "vehicle", "technician"]
    readonly_fields = ["number", "status", "created_by", "created_at", "completed_at"]
    inlines = [JobLineInline, JobStatusChangeInline]
    actions = ["cancel_jobs"]

    @admin.action(description=_("Cancel selected jobs"), permissions=["change"])
    def cancel_jobs(self, request: AuthenticatedHttpRequest, queryset: QuerySet) -> None:
        done = 0
        for job in queryset:
            try:
                services.jobcard_cancel(job=job, user=request.user)
                done += 1
            except ValidationError as exc:
                self.message_user(
                    request, f"{job.number}: {' '.join(exc.messages)}", messages.ERROR
                )
        self.message_user(request, _("%(n)d jobs cancelled.") % {"n": done})
