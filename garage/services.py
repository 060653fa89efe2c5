"""Writes for the garage: customers, vehicles, job cards and stock."""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.arabic import to_ascii_digits
from core.money import plain_text
from core.numbering import sequence_next
from garage import validators
from garage.models import (
    STANDARD_VAT,
    Branch,
    ContactPerson,
    Customer,
    JobCard,
    JobLine,
    JobStatusChange,
    PartStock,
    ServiceItem,
    SparePart,
    StockMovement,
    Vehicle,
)
from garage.tax import TaxCategory


class JobAlreadyOpened(ValidationError):
    """The new-job form was already submitted; `job` is the job it opened."""

    def __init__(self, job: JobCard) -> None:
        super().__init__(_("Job %(number)s was already opened from this form.")
                         % {"number": job.number})  # fmt: skip
        self.job = job


JOB_TRANSITIONS: dict[str, set[str]] = {
    JobCard.Status.OPEN: {JobCard.Status.IN_PROGRESS, JobCard.Status.COMPLETED,
                          JobCard.Status.CANCELLED},
    JobCard.Status.IN_PROGRESS: {JobCard.Status.COMPLETED, JobCard.Status.CANCELLED},
    JobCard.Status.COMPLETED: set(),
    JobCard.Status.CANCELLED: set(),
}  # fmt: skip


def customer_validate(*, customer: Customer) -> None:
    """Normalise the phone, VAT and address digits and check the rules the model cannot.

    Raises ValidationError keyed by field; the admin's form runs it before anything is saved.
    """
    errors: dict[str, list[str]] = {}
    try:
        customer.phone = validators.normalise_phone(customer.phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages
    if customer.vat_number:
        try:
            customer.vat_number = validators.normalise_vat_number(customer.vat_number)
        except ValidationError as exc:
            errors["vat_number"] = exc.messages
    customer.building_number = to_ascii_digits(customer.building_number).strip()
    customer.postal_code = to_ascii_digits(customer.postal_code).strip()
    customer.cr_number = to_ascii_digits(customer.cr_number).strip()
    if customer.kind == Customer.Kind.COMPANY and not customer.vat_number:
        errors.setdefault("vat_number", []).append(_("A company customer needs a VAT number."))
    if not (customer.name_en or customer.name_ar):
        errors["name_en"] = [_("Enter the customer's name in English or Arabic.")]
    if errors:
        raise ValidationError(errors)


def customer_save(*, customer: Customer) -> Customer:
    """Validate a customer as customer_validate and the model do, then save it."""
    customer_validate(customer=customer)
    customer.full_clean()
    customer.save()
    return customer


def customer_create(
    *,
    phone: str,
    name_en: str = "",
    name_ar: str = "",
    kind: str = Customer.Kind.INDIVIDUAL,
    email: str = "",
    vat_number: str = "",
    cr_number: str = "",
    building_number: str = "",
    street: str = "",
    district: str = "",
    city: str = "",
    postal_code: str = "",
    external_reference: str = "",
) -> Customer:
    """Create a customer; the phone and VAT number are normalised, one of the names is needed."""
    customer = Customer(
        kind=kind, name_en=name_en, name_ar=name_ar, phone=phone, email=email,
        vat_number=vat_number, cr_number=cr_number, building_number=building_number,
        street=street, district=district, city=city, postal_code=postal_code,
        external_reference=external_reference,
    )  # fmt: skip
    return customer_save(customer=customer)


def customer_update(
    *,
    customer: Customer,
    kind: str,
    name_en: str,
    name_ar: str,
    phone: str,
    email: str,
    vat_number: str,
    cr_number: str,
    building_number: str,
    street: str,
    district: str,
    city: str,
    postal_code: str,
    external_reference: str | None = None,
) -> Customer:
    """Change a customer's details; the phone and VAT number are normalised again.

    `external_reference` is the finance system's to set (None keeps it)."""
    customer.kind, customer.name_en, customer.name_ar = kind, name_en, name_ar
    customer.phone, customer.email, customer.vat_number = phone, email, vat_number
    customer.cr_number, customer.building_number = cr_number, building_number
    customer.street, customer.district = street, district
    customer.city, customer.postal_code = city, postal_code
    if external_reference is not None:
        customer.external_reference = external_reference
    return customer_save(customer=customer)


def _contactperson_save(contact: ContactPerson) -> ContactPerson:
    contact.name = contact.name.strip()
    if contact.phone:
        try:
            contact.phone = validators.normalise_phone(contact.phone)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from exc
    contact.full_clean()
    contact.save()
    return contact


def contactperson_create(
    *,
    customer: Customer,
    name: str,
    job_title: str = "",
    phone: str = "",
    email: str = "",
    external_reference: str = "",
) -> ContactPerson:
    """A contact person at the customer; a phone given is a Saudi mobile, normalised."""
    contact = ContactPerson(
        customer=customer, name=name, job_title=job_title, phone=phone, email=email,
        external_reference=external_reference,
    )  # fmt: skip
    return _contactperson_save(contact)


def contactperson_update(
    *,
    contact: ContactPerson,
    name: str,
    job_title: str,
    phone: str,
    email: str,
    external_reference: str,
) -> ContactPerson:
    contact.name, contact.job_title, contact.phone = name, job_title, phone
    contact.email, contact.external_reference = email, external_reference
    return _contactperson_save(contact)


def contactperson_delete(*, contact: ContactPerson) -> None:
    contact.delete()


def vehicle_save(*, vehicle: Vehicle) -> Vehicle:
    """Store the plate in its Latin form and the VIN normalised, then save."""
    errors: dict[str, list[str]] = {}
    try:
        vehicle.plate_number = validators.normalise_plate(vehicle.plate_number)
    except ValidationError as exc:
        errors["plate_number"] = exc.messages
    if vehicle.vin:
        try:
            vehicle.vin = validators.normalise_vin(vehicle.vin)
        except ValidationError as exc:
            errors["vin"] = exc.messages
    if errors:
        raise ValidationError(errors)
    vehicle.full_clean(exclude=["plate_key"])
    vehicle.save()
    return vehicle


def vehicle_create(
    *,
    customer: Customer,
    plate_number: str,
    make: str,
    model: str,
    year: int | None = None,
    colour: str = "",
    vin: str = "",
    odometer: int | None = None,
) -> Vehicle:
    """Register a customer's vehicle; the plate is stored in its Latin form."""
    vehicle = Vehicle(
        customer=customer, plate_number=plate_number, make=make, model=model, year=year,
        colour=colour, vin=vin, odometer=odometer,
    )  # fmt: skip
    return vehicle_save(vehicle=vehicle)


def vehicle_update(
    *,
    vehicle: Vehicle,
    customer: Customer,
    plate_number: str,
    make: str,
    model: str,
    year: int | None,
    colour: str,
    vin: str,
    odometer: int | None,
) -> Vehicle:
    """Change a vehicle's details."""
    vehicle.customer, vehicle.plate_number = customer, plate_number
    vehicle.make, vehicle.model, vehicle.year = make, model, year
    vehicle.colour, vehicle.vin, vehicle.odometer = colour, vin, odometer
    return vehicle_save(vehicle=vehicle)


def _record_job_status(job: JobCard, to_status: str, user: User | None) -> None:
    if to_status not in JOB_TRANSITIONS[job.status]:
        raise ValidationError(
            _("A job that is %(from)s cannot become %(to)s.")
            % {"from": job.get_status_display(), "to": JobCard.Status(to_status).label}
        )
    JobStatusChange.objects.create(
        job=job, from_status=job.status, to_status=to_status, changed_by=user
    )
    job.status = to_status


@transaction.atomic
def jobcard_create(
    *,
    branch: Branch,
    customer: Customer,
    vehicle: Vehicle,
    created_by: User | None,
    technician: User | None = None,
    complaint: str = "",
    odometer_in: int | None = None,
    form_token: uuid.UUID | None = None,
) -> JobCard:
    """Open a job card with the next job number of the year.

    A `form_token` already used raises JobAlreadyOpened naming the job it opened.
    """
    if vehicle.customer_id != customer.pk:
        raise ValidationError({"vehicle": [_("This vehicle belongs to another customer.")]})
    if odometer_in is not None and vehicle.odometer and odometer_in < vehicle.odometer:
        raise ValidationError(
            {"odometer_in": [_("The odometer is lower than the last reading (%(km)s km).")
                             % {"km": vehicle.odometer}]}
        )  # fmt: skip
    year = timezone.localdate().year
    number = f"JOB-{year}-{sequence_next(name='job', year=year):06d}"
    try:
        # A savepoint, so the query for the first job still runs after the insert failed.
        with transaction.atomic():
            job = JobCard.objects.create(
                number=number,
                branch=branch,
                customer=customer,
                vehicle=vehicle,
                technician=technician,
                complaint=complaint,
                odometer_in=odometer_in,
                created_by=created_by,
                form_token=form_token,
            )
    except IntegrityError:
        # The unique token, not a check before the insert: two posts racing both pass a check,
        # but the second insert waits for the first to commit and then fails here.
        first = JobCard.objects.filter(form_token=form_token).first() if form_token else None
        if first is None:
            raise
        # Raised out of the outer transaction, which also rolls back the job number taken.
        raise JobAlreadyOpened(first) from None
    JobStatusChange.objects.create(job=job, from_status="", to_status=job.status,
                                   changed_by=created_by)  # fmt: skip
    if odometer_in is not None and odometer_in != vehicle.odometer:
        Vehicle.objects.filter(pk=vehicle.pk).update(odometer=odometer_in)
    return job


def _available(part: SparePart, branch: Branch) -> Decimal:
    stock = PartStock.objects.filter(part=part, branch=branch).values_list("quantity", flat=True)
    return next(iter(stock), Decimal("0"))


@transaction.atomic
def jobline_add(
    *,
    job: JobCard,
    kind: str,
    item: ServiceItem | SparePart,
    quantity: Decimal,
    unit_price: Decimal | None = None,
    description: str = "",
    user: User | None = None,
) -> JobLine:
    """Add a service or part line; a part must have enough stock at the job's branch.

    Without `unit_price` the line has the catalogue price; another price needs a `user` who
    may set line prices (PermissionDenied otherwise).
    """
    catalogue_price = item.default_price if isinstance(item, ServiceItem) else item.sale_price
    if (
        unit_price is not None
        and unit_price != catalogue_price
        and not (user is not None and user.has_perm(roles.SET_LINE_PRICE))
    ):
        raise PermissionDenied(_("Only the catalogue price can be used for this line."))
    job = JobCard.objects.select_for_update().get(pk=job.pk)
    if not job.is_editable:
        raise ValidationError(_("Lines can only be changed while the job is open or in progress."))
    errors: dict[str, list[str]] = {}
    if quantity is None or quantity <= 0:
        errors["quantity"] = [_("The quantity must be more than zero.")]
    price = catalogue_price if unit_price is None else unit_price
    if price < 0:
        errors["unit_price"] = [_("The price cannot be negative.")]
    if not item.is_active:
        errors["item"] = [_("%(item)s is no longer active.") % {"item": item}]
    if isinstance(item, SparePart) and not errors:
        already = sum((line.quantity for line in job.lines.filter(spare_part=item)), Decimal("0"))
        available = _available(item, job.branch)
        if already + quantity > available:
            errors["quantity"] = [
                _("Only %(available)s of %(part)s in stock at %(branch)s.")
                % {"available": plain_text(available), "part": item, "branch": job.branch}
            ]
    if errors:
        raise ValidationError(errors)
    return JobLine.objects.create(
        job=job,
        kind=kind,
        service_item=item if isinstance(item, ServiceItem) else None,
        spare_part=item if isinstance(item, SparePart) else None,
        description=description or item.name_en,
        quantity=quantity,
        unit_price=price,
    )


@transaction.atomic
def jobline_remove(*, line: JobLine) -> None:
    """Remove a line from a job that is still open or in progress."""
    job = JobCard.objects.select_for_update().get(pk=line.job_id)
    if not job.is_editable:
        raise ValidationError(_("Lines can only be changed while the job is open or in progress."))
    line.delete()


@transaction.atomic
def jobcard_start(*, job: JobCard, user: User | None) -> JobCard:
    """Mark work as started."""
    job = JobCard.objects.select_for_update().get(pk=job.pk)
    _record_job_status(job, JobCard.Status.IN_PROGRESS, user)
    job.save(update_fields=["status"])
    return job


@transaction.atomic
def jobcard_cancel(*, job: JobCard, user: User) -> JobCard:
    """Cancel a job that has not been completed; no stock was consumed yet.

    Only a user who may cancel jobs (the advisor and up), whichever page or action asks.
    """
    if not user.has_perm(roles.CANCEL_JOB):
        raise PermissionDenied(_("You may not cancel jobs."))
    job = JobCard.objects.select_for_update().get(pk=job.pk)
    _record_job_status(job, JobCard.Status.CANCELLED, user)
    job.save(update_fields=["status"])
    return job


@transaction.atomic
def jobcard_complete(*, job: JobCard, user: User | None) -> JobCard:
    """Complete a job and consume its parts from the branch's stock, all or nothing."""
    job = JobCard.objects.select_for_update().get(pk=job.pk)
    _record_job_status(job, JobCard.Status.COMPLETED, user)
    lines = list(job.lines.select_related("service_item", "spare_part"))
    if not lines:
        raise ValidationError(_("Add at least one service or part before completing the job."))
    needed: dict[int, Decimal] = defaultdict(Decimal)
    parts: dict[int, SparePart] = {}
    for line in lines:
        if line.spare_part is not None:
            needed[line.spare_part.pk] += line.quantity
            parts[line.spare_part.pk] = line.spare_part
    # Lock stock rows in a fixed order so two jobs sharing parts cannot deadlock.
    stock = {
        s.part_id: s
        for s in PartStock.objects.select_for_update()
        .filter(branch=job.branch, part_id__in=needed)
        .order_by("part_id")
    }
    short = []
    for part_id, quantity in needed.items():
        available = stock[part_id].quantity if part_id in stock else Decimal("0")
        if available < quantity:
            short.append(
                _("%(part)s: need %(need)s, %(available)s in stock")
                % {"part": parts[part_id], "need": plain_text(quantity),
                   "available": plain_text(available)}
            )  # fmt: skip
    if short:
        raise ValidationError(
            _("Not enough stock at %(branch)s to complete this job. %(details)s.")
            % {"branch": job.branch, "details": "; ".join(short)}
        )
    for part_id, quantity in needed.items():
        PartStock.objects.filter(pk=stock[part_id].pk).update(quantity=F("quantity") - quantity)
        StockMovement.objects.create(
            part_id=part_id, branch=job.branch, quantity=-quantity, job=job,
            reason="job completed", created_by=user,
        )  # fmt: skip
    job.completed_at = timezone.now()
    # A job is invoiced only once completed, so a job completing now has no invoice yet.
    job.invoice_pending = True
    job.save(update_fields=["status", "completed_at", "invoice_pending"])
    return job


@transaction.atomic
def stock_adjust(
    *,
    part: SparePart,
    branch: Branch,
    quantity: Decimal,
    reason: str,
    user: User | None,
) -> PartStock:
    """Receive (positive) or write off (negative) stock at a branch."""
    PartStock.objects.get_or_create(part=part, branch=branch)
    stock = PartStock.objects.select_for_update().get(part=part, branch=branch)
    if stock.quantity + quantity < 0:
        raise ValidationError(
            {"quantity": [_("Only %(available)s in stock.") % {"available": stock.quantity}]}
        )
    stock.quantity += quantity
    stock.save(update_fields=["quantity"])
    StockMovement.objects.create(
        part=part, branch=branch, quantity=quantity, reason=reason, created_by=user
    )
    return stock


def serviceitem_save(
    *,
    item: ServiceItem | None,
    code: str,
    name_en: str,
    default_price: Decimal,
    name_ar: str = "",
    vat_rate: Decimal = STANDARD_VAT,
    tax_category: str = TaxCategory.STANDARD,
    vat_exemption_code: str = "",
    is_active: bool = True,
) -> ServiceItem:
    """Create (`item` None) or change a service item after the model's own validation."""
    item = item if item is not None else ServiceItem()
    item.code, item.name_en, item.name_ar = code, name_en, name_ar
    item.default_price, item.vat_rate, item.is_active = default_price, vat_rate, is_active
    item.tax_category, item.vat_exemption_code = tax_category, vat_exemption_code
    item.full_clean()
    item.save()
    return item


def sparepart_save(
    *,
    part: SparePart | None,
    sku: str,
    name_en: str,
    sale_price: Decimal,
    name_ar: str = "",
    cost: Decimal = Decimal("0"),
    vat_rate: Decimal = STANDARD_VAT,
    tax_category: str = TaxCategory.STANDARD,
    vat_exemption_code: str = "",
    is_active: bool = True,
) -> SparePart:
    """Create (`part` None) or change a spare part after the model's own validation."""
    part = part if part is not None else SparePart()
    part.sku, part.name_en, part.name_ar = sku, name_en, name_ar
    part.sale_price, part.cost, part.vat_rate = sale_price, cost, vat_rate
    part.tax_category, part.vat_exemption_code = tax_category, vat_exemption_code
    part.is_active = is_active
    part.full_clean()
    part.save()
    return part
