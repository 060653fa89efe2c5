"""Reads for the garage pages: visible rows, search, and the figures shown beside them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from garage import validators
from garage.models import (
    Branch,
    Customer,
    JobCard,
    JobLine,
    PartStock,
    ServiceItem,
    SparePart,
    StockMovement,
    Vehicle,
)

CENT = Decimal("0.01")
# Shorter digit strings match too many phone and VAT numbers to be useful.
_MIN_NUMBER_SEARCH = 3


def _digits(text: str) -> str:
    return re.sub(r"\D", "", validators.to_ascii_digits(text))


def _phone_fragment(text: str) -> str:
    """The national part of a (partial) phone number, as stored after +966."""
    digits = _digits(text)
    for prefix in ("00966", "966", "0"):
        if digits.startswith(prefix):
            return digits[len(prefix) :]
    return digits


def _plate_fragment(text: str) -> str:
    """A (partial) plate in stored key order, digits then Latin letters; '' if not a plate."""
    key = validators.plate_search_key(text)
    digits = "".join(c for c in key if c.isdigit())
    letters = "".join(c for c in key if not c.isdigit())
    # Arabic plates are read letters first, so "ا ب ١٢٣٤" must still find key "1234AB".
    if (
        not key
        or len(digits) > 4
        or len(letters) > 3
        or any(c not in validators.PLATE_LATIN_TO_AR for c in letters)
    ):
        return ""
    return digits + letters


def _search_q(
    text: str,
    *,
    fields: Sequence[str],
    phone: str | None = None,
    vat: str | None = None,
    plate: str | None = None,
) -> Q:
    """OR of the lookups that make sense for `text`: substring on `fields`, and the phone,
    VAT and plate-key paths matched on their normalised forms."""
    q = Q()
    for field in fields:
        q |= Q(**{f"{field}__icontains": text})
    digits = _digits(text)
    if phone and len(_phone_fragment(text)) >= _MIN_NUMBER_SEARCH:
        q |= Q(**{f"{phone}__contains": _phone_fragment(text)})
    if vat and len(digits) >= _MIN_NUMBER_SEARCH:
        q |= Q(**{f"{vat}__contains": digits})
    if plate and (fragment := _plate_fragment(text)):
        q |= Q(**{f"{plate}__icontains": fragment})
    return q


def jobcard_visible(*, user: User | AnonymousUser) -> QuerySet[JobCard]:
    """Jobs the user may open: all of them, or for a technician only those assigned to them."""
    jobs = JobCard.objects.select_related("branch", "customer", "vehicle", "technician")
    if not user.is_authenticated:
        return jobs.none()
    if not user.has_perm("garage.view_all_jobcards"):
        jobs = jobs.filter(technician_id=user.pk)
    return jobs


def jobcard_list(*, user: User | AnonymousUser, search: str = "") -> QuerySet[JobCard]:
    """Visible jobs matching a job number, plate, phone, customer name or VAT number."""
    # Explicit order: Meta.ordering is dropped from queries with GROUP BY (the line count).
    jobs = (
        jobcard_visible(user=user)
        .annotate(line_count=Count("lines"))
        .order_by("-created_at", "-id")
    )
    search = search.strip()
    if search:
        jobs = jobs.filter(
            _search_q(
                search,
                fields=["number", "customer__name_en", "customer__name_ar"],
                phone="customer__phone",
                vat="customer__vat_number",
                plate="vehicle__plate_key",
            )
        )
    return jobs


def jobcard_lines(*, job: JobCard) -> list[JobLine]:
    """The job's lines with their catalogue items, in the order they were added."""
    return list(job.lines.select_related("service_item", "spare_part"))


@dataclass(frozen=True)
class LineRow:
    line: JobLine
    net: Decimal
    vat_rate: Decimal

    @property
    def vat_percent(self) -> Decimal:
        return (self.vat_rate * 100).normalize()


@dataclass(frozen=True)
class JobTotals:
    rows: list[LineRow]
    net: Decimal
    vat: Decimal
    total: Decimal


def _money(value: Decimal) -> Decimal:
    # Half-up like the invoices; Python's round() would give banker's rounding.
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def jobcard_totals(*, lines: Iterable[JobLine]) -> JobTotals:
    """Estimated amounts for the job page; the invoice computes the binding figures."""
    rows = [
        LineRow(line=line, net=_money(line.quantity * line.unit_price), vat_rate=line.item.vat_rate)
        for line in lines
    ]
    net_by_rate: dict[Decimal, Decimal] = {}
    for row in rows:
        net_by_rate[row.vat_rate] = net_by_rate.get(row.vat_rate, Decimal("0")) + row.net
    # VAT per rate on the summed net, as ZATCA checks it, not the sum of rounded line VAT.
    vat = sum((_money(net * rate) for rate, net in net_by_rate.items()), Decimal("0"))
    net = sum((row.net for row in rows), Decimal("0"))
    return JobTotals(rows=rows, net=net, vat=vat, total=net + vat)


def catalogue_services() -> QuerySet[ServiceItem]:
    """Active services offered when adding a job line."""
    return ServiceItem.objects.filter(is_active=True)


def catalogue_parts(*, branch: Branch) -> QuerySet[SparePart]:
    """Active parts, each annotated with `available` stock at the branch."""
    stock = PartStock.objects.filter(part=OuterRef("pk"), branch=branch).values("quantity")
    return SparePart.objects.filter(is_active=True).annotate(
        available=Coalesce(Subquery(stock[:1]), Value(Decimal("0")), output_field=DecimalField())
    )


def customer_list(*, search: str = "") -> QuerySet[Customer]:
    """Customers matching a name, phone, VAT number or the plate of one of their vehicles."""
    customers = Customer.objects.annotate(vehicle_count=Count("vehicles")).order_by(
        "name_en", "name_ar", "pk"
    )
    search = search.strip()
    if search:
        q = _search_q(search, fields=["name_en", "name_ar"], phone="phone", vat="vat_number")
        if fragment := _plate_fragment(search):
            # Exists rather than a join, so a customer with two matching cars is listed once.
            q |= Q(
                Exists(
                    Vehicle.objects.filter(customer=OuterRef("pk"), plate_key__icontains=fragment)
                )
            )
        customers = customers.filter(q)
    return customers


def vehicle_list(*, search: str = "") -> QuerySet[Vehicle]:
    """Vehicles matching a plate, VIN, or their owner's name or phone."""
    vehicles = Vehicle.objects.select_related("customer")
    search = search.strip()
    if search:
        vehicles = vehicles.filter(
            _search_q(
                search,
                fields=["vin", "make", "model", "customer__name_en", "customer__name_ar"],
                phone="customer__phone",
                plate="plate_key",
            )
        )
    return vehicles


def sparepart_list(*, search: str = "") -> QuerySet[SparePart]:
    """Parts matching a SKU or name, with their stock rows prefetched."""
    parts = (
        SparePart.objects.prefetch_related("stock")
        .annotate(total_stock=Coalesce(Sum("stock__quantity"), Value(Decimal("0"))))
        .order_by("sku")
    )
    search = search.strip()
    if search:
        parts = parts.filter(_search_q(search, fields=["sku", "name_en", "name_ar"]))
    return parts


def stock_by_branch(
    *, parts: Iterable[SparePart], branches: Sequence[Branch]
) -> list[tuple[SparePart, list[Decimal]]]:
    """Rows of (part, quantity at each branch in `branches` order) from prefetched stock."""
    rows = []
    for part in parts:
        levels = {s.branch_id: s.quantity for s in part.stock.all()}
        rows.append((part, [levels.get(b.pk, Decimal("0")) for b in branches]))
    return rows


def branch_list() -> list[Branch]:
    return list(Branch.objects.filter(is_active=True))


def sparepart_stock(*, part: SparePart) -> QuerySet[PartStock]:
    return part.stock.select_related("branch").order_by("branch__code")


def sparepart_movements(*, part: SparePart, limit: int = 20) -> QuerySet[StockMovement]:
    """The latest stock movements of a part, newest first."""
    return part.movements.select_related("branch", "job", "created_by")[:limit]


def serviceitem_list(*, search: str = "") -> QuerySet[ServiceItem]:
    """Service items matching a code or name."""
    services = ServiceItem.objects.all()
    search = search.strip()
    if search:
        services = services.filter(_search_q(search, fields=["code", "name_en", "name_ar"]))
    return services
