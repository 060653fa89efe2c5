from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.arabic import isolate, ltr_isolate
from core.fields import MoneyField, QuantityField, RateField
from garage import tax, validators

STANDARD_VAT = Decimal("0.15")


class BilingualName(models.Model):
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if get_language() == "ar" and self.name_ar:
            return self.name_ar
        return self.name_en or self.name_ar


class Branch(BilingualName):
    code = models.CharField(_("code"), max_length=10, unique=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")


class Customer(BilingualName):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        COMPANY = "company", _("Company")

    # Many customers give only an Arabic name; customer_create requires one of the two.
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("type"), max_length=12, choices=Kind, default=Kind.INDIVIDUAL)
    phone = models.CharField(_("mobile"), max_length=13, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=15, blank=True, db_index=True)
    cr_number = models.CharField(
        _("CR number"), max_length=10, blank=True, validators=[validators.validate_cr_number]
    )
    building_number = models.CharField(
        _("building number"),
        max_length=4,
        blank=True,
        validators=[validators.validate_building_number],
    )
    street = models.CharField(_("street"), max_length=200, blank=True)
    district = models.CharField(_("district"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(
        _("postal code"), max_length=5, blank=True, validators=[validators.validate_postal_code]
    )
    # The finance system's own key for the customer, when it keeps the customer master.
    external_reference = models.CharField(
        _("finance system's reference"), max_length=100, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["name_ar"]),
            # The customer list's order and keyset pages (garage.selectors.customer_list).
            models.Index(fields=["name_en", "name_ar", "id"], name="customer_list_order"),
            # The API's customer list: changed since, oldest change first, keyset pages.
            models.Index(fields=["updated_at", "id"], name="customer_updated"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_reference"],
                condition=~Q(external_reference=""),
                name="customer_unique_external_reference",
                violation_error_message=_(
                    "Another customer already has this finance system's reference."
                ),
            )
        ]

    @property
    def is_company(self) -> bool:
        return self.kind == self.Kind.COMPANY

    @property
    def address_line(self) -> str:
        parts = [self.building_number, self.street, self.district, self.city, self.postal_code]
        return ", ".join(p for p in parts if p)


class ContactPerson(models.Model):
    """Someone to talk to at a customer (a company's buyer, its accounts payable)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=200)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("mobile"), max_length=13, blank=True)
    email = models.EmailField(_("email"), blank=True)
    external_reference = models.CharField(
        _("finance system's reference"), max_length=100, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")

    def __str__(self) -> str:
        return self.name


# Well beyond any car's odometer, and inside the integer columns of every database.
MAX_ODOMETER_KM = 9_999_999


class Vehicle(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="vehicles", verbose_name=_("customer")
    )
    make = models.CharField(_("make"), max_length=60)
    model = models.CharField(_("model"), max_length=60)
    year = models.PositiveSmallIntegerField(
        _("year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1950), MaxValueValidator(2100)],
    )
    colour = models.CharField(_("colour"), max_length=40, blank=True)
    plate_number = models.CharField(
        _("plate number"),
        max_length=9,
        unique=True,
        help_text=_("Arabic or Latin letters, e.g. 1234 ABJ or ١٢٣٤ ا ب ح"),
    )
    # The plate without its space, so a search for "1234AB" or "ا ب 1234" finds "1234 ABJ".
    plate_key = models.CharField(max_length=8, db_index=True, editable=False)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    odometer = models.PositiveIntegerField(
        _("odometer (km)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_ODOMETER_KM)],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plate_number"]
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        # The vehicle list's order and keyset pages (the primary key makes it unique).
        indexes = [models.Index(fields=["plate_number", "id"], name="vehicle_list_order")]
        constraints = [
            models.UniqueConstraint(
                fields=["vin"],
                condition=~Q(vin=""),
                name="vehicle_unique_vin",
                violation_error_message=_("Another vehicle already has this VIN."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.plate_number})"

    def save(self, *args, **kwargs) -> None:
        self.plate_key = self.plate_number.replace(" ", "")
        super().save(*args, **kwargs)

    def unique_error_message(
        self, model_class: type[Vehicle], unique_check: Sequence[str]
    ) -> ValidationError:
        # Django's "Vehicle with this Plate number already exists." reads as broken Arabic and
        # leaves the advisor searching: say whose vehicle it is.
        if tuple(unique_check) == ("plate_number",):
            other = (
                Vehicle.objects.select_related("customer")
                .filter(plate_number=self.plate_number)
                .exclude(pk=self.pk)
                .first()
            )
            if other is not None:
                return ValidationError(
                    _("The plate %(plate)s is already registered to %(customer)s (%(vehicle)s)."),
                    code="unique",
                    params={
                        "plate": ltr_isolate(other.plate_number),
                        "customer": isolate(other.customer.name),
                        "vehicle": isolate(other.name),
                    },
                )
        return super().unique_error_message(model_class, unique_check)

    @property
    def name(self) -> str:
        return " ".join(str(p) for p in (self.make, self.model, self.year) if p)

    @property
    def plate_arabic(self) -> str:
        return validators.plate_in_arabic(self.plate_number)


class ServiceItem(BilingualName):
    code = models.CharField(_("code"), max_length=30, unique=True)
    default_price = MoneyField(_("default price"), validators=[MinValueValidator(Decimal("0"))])
    vat_rate = RateField(
        _("VAT rate"),
        default=STANDARD_VAT,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.99"))],
    )
    tax_category = models.CharField(
        _("VAT category"),
        max_length=1,
        choices=tax.TaxCategory,
        default=tax.TaxCategory.STANDARD,
        help_text=_("Zero-rated and exempt items carry 0% VAT and a ZATCA reason."),
    )
    vat_exemption_code = models.CharField(
        _("ZATCA reason"),
        max_length=tax.CODE_MAX_LENGTH,
        choices=tax.reason_choices,
        blank=True,
        help_text=_("Why the item is zero-rated or exempt (VATEX code)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        constraints = [
            models.CheckConstraint(
                condition=Q(default_price__gte=0), name="serviceitem_price_not_negative"
            ),
            tax.item_constraint("serviceitem"),
        ]

    def clean(self) -> None:
        super().clean()
        tax.validate_category(
            category=self.tax_category, code=self.vat_exemption_code, rate=self.vat_rate
        )


class SparePart(BilingualName):
    sku = models.CharField(_("part number / SKU"), max_length=40, unique=True)
    sale_price = MoneyField(_("sale price"), validators=[MinValueValidator(Decimal("0"))])
    cost = MoneyField(_("cost"), default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    vat_rate = RateField(
        _("VAT rate"),
        default=STANDARD_VAT,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.99"))],
    )
    tax_category = models.CharField(
        _("VAT category"),
        max_length=1,
        choices=tax.TaxCategory,
        default=tax.TaxCategory.STANDARD,
        help_text=_("Zero-rated and exempt items carry 0% VAT and a ZATCA reason."),
    )
    vat_exemption_code = models.CharField(
        _("ZATCA reason"),
        max_length=tax.CODE_MAX_LENGTH,
        choices=tax.reason_choices,
        blank=True,
        help_text=_("Why the item is zero-rated or exempt (VATEX code)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("spare part")
        verbose_name_plural = _("spare parts")
        permissions = [("view_sparepart_cost", "Can see parts' cost and the margin on them")]
        constraints = [
            models.CheckConstraint(
                condition=Q(sale_price__gte=0) & Q(cost__gte=0),
                name="sparepart_prices_not_negative",
            ),
            tax.item_constraint("sparepart"),
        ]

    def clean(self) -> None:
        super().clean()
        tax.validate_category(
            category=self.tax_category, code=self.vat_exemption_code, rate=self.vat_rate
        )


class PartStock(models.Model):
    part = models.ForeignKey(SparePart, on_delete=models.CASCADE, related_name="stock")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="stock")
    quantity = QuantityField(_("quantity"), default=Decimal("0"))

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["part", "branch"], name="partstock_unique"),
            # The last line of defence against selling stock twice.
            models.CheckConstraint(condition=Q(quantity__gte=0), name="partstock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.part.sku} @ {self.branch.code}: {self.quantity}"


class JobCard(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("job number"), max_length=25, unique=True, editable=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, verbose_name=_("branch"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, verbose_name=_("customer"))
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, verbose_name=_("vehicle"))
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_jobs",
        verbose_name=_("technician"),
    )
    complaint = models.TextField(_("complaint"), blank=True)
    odometer_in = models.PositiveIntegerField(
        _("odometer in (km)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_ODOMETER_KM)],
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status, default=Status.OPEN, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The one-time token of the new-job form that opened the job: unique, so the same form
    # posted twice (a double click, a resent request) cannot open a second job.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # Completed and without an invoice that is not void: the job waits under Needs Invoice.
    # Kept by jobcard_complete and invoicing's services (job_invoice_pending_refresh) so the tab
    # reads a partial index instead of an anti-join over every job and invoice.
    invoice_pending = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The job list's order and keyset pages (garage.selectors.jobcard_list).
            models.Index(fields=["-created_at", "-id"], name="jobcard_list_order"),
            models.Index(
                fields=["-completed_at", "-id"],
                condition=Q(invoice_pending=True),
                name="jobcard_invoice_pending",
            ),
        ]
        verbose_name = _("job card")
        verbose_name_plural = _("job cards")
        permissions = [
            ("complete_jobcard", "Can start and complete job cards"),
            ("cancel_jobcard", "Can cancel job cards"),
            ("view_all_jobcards", "Can see every job, not only those assigned to them"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS)


class JobLine(models.Model):
    class Kind(models.TextChoices):
        SERVICE = "service", _("Service")
        PART = "part", _("Spare part")

    job = models.ForeignKey(JobCard, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    service_item = models.ForeignKey(
        ServiceItem, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("service")
    )
    spare_part = models.ForeignKey(
        SparePart, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("spare part")
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = QuantityField(_("quantity"))
    unit_price = MoneyField(_("unit price"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("job line")
        verbose_name_plural = _("job lines")
        permissions = [("change_jobline_price", "Can set a line price other than the catalogue's")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="jobline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="jobline_price_not_negative"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="service", service_item__isnull=False, spare_part__isnull=True)
                    | Q(kind="part", spare_part__isnull=False, service_item__isnull=True)
                ),
                name="jobline_kind_matches_item",
            ),
        ]

    def __str__(self) -> str:
        return self.description or str(self.item)

    @property
    def item(self) -> ServiceItem | SparePart:
        item = self.service_item if self.kind == self.Kind.SERVICE else self.spare_part
        # The jobline_kind_matches_item constraint: the column of the line's kind is filled.
        assert item is not None
        return item


class JobStatusChange(models.Model):
    job = models.ForeignKey(JobCard, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("job status change")
        verbose_name_plural = _("job status changes")

    def __str__(self) -> str:
        return f"{self.job_id}: {self.from_status} -> {self.to_status}"


class StockMovement(models.Model):
    """Every change of stock, so a count can be explained."""

    part = models.ForeignKey(SparePart, on_delete=models.PROTECT, related_name="movements")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField()
    job = models.ForeignKey(JobCard, on_delete=models.PROTECT, null=True, related_name="+")
    reason = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")

    def __str__(self) -> str:
        return f"{self.part_id}@{self.branch_id}: {self.quantity} ({self.reason})"
