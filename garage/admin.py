from __future__ import annotations

import copy
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet, Sum
from django.forms.models import construct_instance
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core import roles
from core.admin import ReadOnlyAdminMixin, ReadOnlyTabularInline
from core.http import AuthenticatedHttpRequest
from garage import models, services
from garage.forms import (
    CustomerForm,
    JobCardCreateForm,
    ServiceItemForm,
    SparePartForm,
    VehicleForm,
)

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


class VehicleInline(ReadOnlyTabularInline):
    # Vehicles are edited on their own page, through the vehicle form's plate rules.
    model = models.Vehicle
    fields = ("plate_number", "make", "model", "year", "vin")
    readonly_fields = fields
    show_change_link = True


class CustomerAdminForm(CustomerForm):
    """The app's customer form, plus the rules garage.services checks before it saves."""

    class Meta(CustomerForm.Meta):
        fields = [*CustomerForm.Meta.fields, "is_active"]

    def clean(self) -> dict[str, Any]:
        # On a copy, so the admin refuses what the customer pages refuse when the service saves
        # (a company without a VAT number, no name) before anything is saved.
        super().clean()
        candidate = construct_instance(self, copy.copy(self.instance), self._meta.fields)
        try:
            services.customer_validate(customer=candidate)
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                # A field the form already refused is unset on the copy: one message is enough.
                if field not in self.errors:
                    self.add_error(field if field in self.fields else None, errors)
        return self.cleaned_data


@admin.register(models.Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
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

    def save_model(
        self, request: HttpRequest, obj: models.Customer, form: forms.ModelForm, change: bool
    ) -> None:
        services.customer_save(customer=obj)


class VehicleAdminForm(VehicleForm):
    # The model's field instead of the app's full drop-down, so the admin's autocomplete
    # widget picks the customer.
    customer = None  # type: ignore[assignment]


@admin.register(models.Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    form = VehicleAdminForm
    list_display = ["plate_number", "make", "model", "year", "customer", "vin"]
    list_filter = ["make"]
    search_fields = ["plate_key", "plate_number", "vin", "customer__name_en", "customer__phone"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["plate_key", "created_at"]

    def save_model(
        self, request: HttpRequest, obj: models.Vehicle, form: forms.ModelForm, change: bool
    ) -> None:
        services.vehicle_save(vehicle=obj)


@admin.register(models.ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    form = ServiceItemForm
    list_display = ["code", "name_en", "name_ar", "default_price", "vat_rate", "is_active"]
    list_filter = ["is_active", "vat_rate"]
    search_fields = ["code", "name_en", "name_ar"]

    def save_model(
        self, request: HttpRequest, obj: models.ServiceItem, form: forms.ModelForm, change: bool
    ) -> None:
        services.serviceitem_save(item=obj, **form.cleaned_data)


class PartStockInline(ReadOnlyTabularInline):
    # Stock only changes through stock_adjust / job completion, which leave a movement row.
    model = models.PartStock
    readonly_fields = ["branch", "quantity"]


@admin.register(models.SparePart)
class SparePartAdmin(admin.ModelAdmin):
    form = SparePartForm
    list_display = ["sku", "name_en", "name_ar", "sale_price", "cost", "total_stock", "is_active"]
    list_filter = ["is_active", "vat_rate"]
    search_fields = ["sku", "name_en", "name_ar"]
    inlines = [PartStockInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(_stock=Sum("stock__quantity"))

    @admin.display(description=_("stock"), ordering="_stock")
    def total_stock(self, obj: WithAnnotations[models.SparePart, _TotalStock]) -> object:
        return obj._stock

    def save_model(
        self, request: HttpRequest, obj: models.SparePart, form: forms.ModelForm, change: bool
    ) -> None:
        services.sparepart_save(part=obj, **form.cleaned_data)


@admin.register(models.PartStock)
class PartStockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["part", "branch", "quantity"]
    list_filter = ["branch"]
    search_fields = ["part__sku", "part__name_en"]
    list_select_related = ["part", "branch"]


@admin.register(models.StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "part", "branch", "quantity", "reason", "job", "created_by"]
    list_filter = ["branch", "reason"]
    search_fields = ["part__sku", "job__number"]
    list_select_related = ["part", "branch", "job", "created_by"]


class JobLineInline(ReadOnlyTabularInline):
    model = models.JobLine
    fields = ("kind", "service_item", "spare_part", "description", "quantity", "unit_price")
    readonly_fields = fields


class JobStatusChangeInline(ReadOnlyTabularInline):
    model = models.JobStatusChange
    readonly_fields = ["from_status", "to_status", "changed_by", "changed_at"]


class JobCardAdminForm(forms.ModelForm):
    # The new-job form's choice, so only technicians are offered here too.
    technician = JobCardCreateForm.base_fields["technician"]

    class Meta:
        model = models.JobCard
        fields = ["branch", "customer", "vehicle", "technician", "complaint", "odometer_in"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        customer, vehicle = self.cleaned_data.get("customer"), self.cleaned_data.get("vehicle")
        if customer and vehicle and vehicle.customer_id != customer.pk:
            self.add_error("vehicle", _("This vehicle belongs to another customer."))
        return self.cleaned_data


@admin.register(models.JobCard)
class JobCardAdmin(admin.ModelAdmin):
    form = JobCardAdminForm
    list_display = ["number", "status", "branch", "customer", "vehicle", "technician", "created_at"]
    list_filter = ["status", "branch"]
    search_fields = ["number", "vehicle__plate_key", "customer__name_en", "customer__phone"]
    list_select_related = ["branch", "customer", "vehicle", "technician"]
    readonly_fields = ["number", "status", "created_by", "created_at", "completed_at"]
    inlines = [JobLineInline, JobStatusChangeInline]
    actions = ["cancel_jobs"]

    # Jobs open through jobcard_create (number, first history row) and are cancelled, never
    # deleted: their lines, history and stock movements are part of the books.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_readonly_fields(
        self, request: HttpRequest, obj: models.JobCard | None = None
    ) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not obj.is_editable:
            # What the job was done and invoiced for stays as it was.
            fields += ["branch", "customer", "vehicle"]
        return fields

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        # The permission the job page's Cancel button and jobcard_cancel need.
        return request.user.has_perm(roles.CANCEL_JOB)

    @admin.action(description=_("Cancel selected jobs"), permissions=["cancel"])
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
