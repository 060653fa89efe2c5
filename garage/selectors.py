"""Reads for the garage pages: visible rows, search, and the figures shown beside them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    Case,
    Count,
    DecimalField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from core import roles
from core.calculations import LineInput, calculate_invoice
from core.money import to_money, to_percent, to_plain
from core.search import search_filter, search_q
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


def jobcard_visible(*, user: User | AnonymousUser) -> QuerySet[JobCard]:
    """Jobs the user may open: all of them, or for a technician only those assigned to them."""
    jobs = JobCard.objects.select_related("branch", "customer", "vehicle", "technician")
    if not user.is_authenticated:
        return jobs.none()
    if not user.has_perm(roles.SEE_ALL_JOBS):
        jobs = jobs.filter(technician_id=user.pk)
    return jobs


# A technician's home lists this many of their jobs; the job list has the rest.
MY_JOBS_SHOWN = 30


def jobcard_to_work(*, jobs: QuerySet[JobCard]) -> list[JobCard]:
    """Open and in-progress jobs in the order to work them: the one under way first, then the
    longest waiting."""
    in_progress_first = Case(
        When(status=JobCard.Status.IN_PROGRESS, then=Value(0)), default=Value(1)
    )
    return list(
        jobs.filter(status__in=[JobCard.Status.OPEN, JobCard.Status.IN_PROGRESS]).order_by(
            in_progress_first, "created_at", "pk"
        )[:MY_JOBS_SHOWN]
    )


def jobcard_list(*, user: User | AnonymousUser, search: str = "") -> QuerySet[JobCard]:
    """Visible jobs matching a job number, plate, customer name, or phone or VAT number for
    those who may see customers' details (a match would tell the others the number)."""
    # A correlated count rather than a GROUP BY: PostgreSQL evaluates it for the page's rows
    # only, after the LIMIT, instead of counting the lines of every job before sorting.
    lines = JobLine.objects.filter(job=OuterRef("pk")).order_by().values("job")
    jobs = (
        jobcard_visible(user=user)
        .annotate(line_count=Subquery(lines.annotate(n=Count("pk")).values("n")))
        .order_by("-created_at", "-id")
    )
    if search.strip():
        contacts = user.has_perm(roles.SEE_CUSTOMER_DETAILS)
        jobs = search_filter(
            jobs,
            search,
            fields=["number", "customer__name_en", "customer__name_ar"],
            phone="customer__phone" if contacts else None,
            vat="customer__vat_number" if contacts else None,
            plate_key="vehicle__plate_key",
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
        return to_plain(self.vat_rate * 100)


@dataclass(frozen=True)
class PartsMargin:
    """The job's parts: what they sell for (net of VAT), what they cost us, and the difference."""

    count: int
    net: Decimal
    cost: Decimal

    @property
    def margin(self) -> Decimal:
        return self.net - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        """The margin as a percent of the parts' net; None when they sell for nothing."""
        return to_percent(self.margin / self.net) if self.net else None


@dataclass(frozen=True)
class JobTotals:
    rows: list[LineRow]
    net: Decimal
    vat: Decimal
    total: Decimal
    parts: PartsMargin


def jobcard_totals(*, lines: Iterable[JobLine]) -> JobTotals:
    """Amounts for the job page, calculated as the invoice would calculate these lines today.

    Still an estimate: the invoice is calculated afresh from the prices when it is issued.
    """
    lines = list(lines)
    totals = calculate_invoice(
        [
            LineInput(
                quantity=line.quantity, unit_price=line.unit_price, vat_rate=line.item.vat_rate
            )
            for line in lines
        ]
    )
    rows = [
        LineRow(line=line, net=result.net, vat_rate=line.item.vat_rate)
        for line, result in zip(lines, totals.lines, strict=True)
    ]
    # At the catalogue's cost today: a job line keeps its price, not what the part cost then.
    parts = [(row, row.line.spare_part) for row in rows if row.line.spare_part is not None]
    parts_margin = PartsMargin(
        count=len(parts),
        net=sum((row.net for row, _part in parts), Decimal("0")),
        cost=sum((to_money(row.line.quantity * part.cost) for row, part in parts), Decimal("0")),
    )
    return JobTotals(
        rows=rows, net=totals.net, vat=totals.vat, total=totals.total, parts=parts_margin
    )


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
    vehicles = Vehicle.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
    customers = Customer.objects.annotate(
        vehicle_count=Coalesce(Subquery(vehicles.annotate(n=Count("pk")).values("n")), 0)
    ).order_by("name_en", "name_ar", "pk")
    if search.strip():
        # The plate arm is a query of its own (search_filter), so a customer with two
        # matching cars is listed once.
        customers = search_filter(
            customers,
            search,
            fields=["name_en", "name_ar"],
            phone="phone",
            vat="vat_number",
            plate_key="vehicles__plate_key",
        )
    return customers


def vehicle_list(*, search: str = "") -> QuerySet[Vehicle]:
    """Vehicles matching a plate, VIN, or their owner's name or phone."""
    vehicles = Vehicle.objects.select_related("customer")
    if search.strip():
        vehicles = search_filter(
            vehicles,
            search,
            fields=["vin", "make", "model", "customer__name_en", "customer__name_ar"],
            phone="customer__phone",
            plate_key="plate_key",
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
        parts = parts.filter(search_q(search, fields=["sku", "name_en", "name_ar"]))
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
        services = services.filter(search_q(search, fields=["code", "name_en", "name_ar"]))
    return services
