"""Reads for the invoice pages: the invoice list, Needs Invoice, one invoice with its history."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from core.rows import RowsQuery, prefetched, rows_query
from core.search import search_filter, search_q
from garage.models import Customer, JobCard, ServiceItem, SparePart, Vehicle
from garage.tax import PRINTED_CATEGORY, TaxCategory, category_label, is_standard
from garage.validators import plate_in_arabic
from invoicing.history import edit_display
from invoicing.models import Invoice, InvoiceEvent
from invoicing.zatca import zatca_qr_base64, zatca_qr_svg

# The columns the list renders; the wide text columns (notes, address) stay on disk.
_LIST_COLUMNS = (
    "id",
    "number",
    "issue_date",
    "customer_name",
    "customer_name_ar",
    "vehicle_plate",
    "total",
    "amount_paid",
    "balance",
    "status",
    "requires_qoyod",
    "qoyod_managed",
    "finance_state",
    "finance_reference",
    "finance_cancel_reference",
)


def qoyod_connected_default() -> bool:
    """Initial value of Requires Qoyod invoice on a new invoice: on when Qoyod is connected."""
    # Looked up through the app registry, not imported: invoicing never imports qoyod_sync
    # (design.md §1), and the model is the one fact this needs.
    return apps.get_model("qoyod_sync", "QoyodConnection").objects.exists()


_INVOICE_FIELDS = ["number", "customer_name", "customer_name_ar"]


def invoice_search_q(text: str) -> Q:
    """Invoices whose number, customer name (en/ar), mobile, VAT number or plate matches."""
    return search_q(
        text,
        fields=_INVOICE_FIELDS,
        phone="customer_phone",
        vat="customer_vat_number",
        plate="vehicle_plate",
    )


# What the Qoyod column of a row reads besides the invoice (qoyod_sync's tags; named by relation,
# as invoicing imports nothing of qoyod_sync or payments, design.md §1): the sync row and the
# read-back state, joined one-to-one; and whether a credit note credits it (has_credit_notes),
# which a void row approved in Qoyod says.
_QOYOD_ROW_RELATIONS = ("qoyod_sync", "qoyod_payment_state")


def _has_credit_notes() -> Exists:
    notes = apps.get_model("qoyod_sync", "QoyodCreditNote").objects
    return Exists(notes.filter(invoice=OuterRef("pk")))


def invoice_list(*, search: str = "") -> QuerySet[Invoice]:
    """Invoices newest first (the invoice_list_order index), narrowed by a free-text search,
    each with everything its row shows, so a page costs the same queries for 1 row or 50."""
    # Every other column shown is a snapshot on the invoice row.
    invoices = (
        Invoice.objects.only(*_LIST_COLUMNS, *_QOYOD_ROW_RELATIONS)
        .select_related(*_QOYOD_ROW_RELATIONS)
        .annotate(has_credit_notes=_has_credit_notes())
        .order_by("-issue_date", "-id")
    )
    if search.strip():
        # The same lookups as invoice_search_q, all on the invoice's own (indexed) columns.
        invoices = search_filter(
            invoices,
            search,
            fields=_INVOICE_FIELDS,
            phone="customer_phone",
            vat="customer_vat_number",
            plate="vehicle_plate",
        )
    return invoices


def jobs_needing_invoice(*, search: str = "") -> QuerySet[JobCard]:
    """Completed jobs with no active invoice: never invoiced, or void and not reissued."""
    last_void = Invoice.objects.filter(job=OuterRef("pk"), status=Invoice.Status.VOID).order_by(
        "-id"
    )
    # invoice_pending reads the partial index jobcard_invoice_pending, newest completion first.
    # Every completed job has completed_at; saying so lets core.paging page both ways by a
    # plain index range instead of an OR with IS NULL.
    jobs = (
        JobCard.objects.filter(invoice_pending=True, completed_at__isnull=False)
        .select_related("branch", "customer", "vehicle")
        .annotate(last_void_number=Subquery(last_void.values("number")[:1]))
        .order_by("-completed_at", "-id")
    )
    if search.strip():
        jobs = search_filter(
            jobs,
            search,
            fields=["number", "customer__name_en", "customer__name_ar"],
            phone="customer__phone",
            plate_key="vehicle__plate_key",
        )
    return jobs


def jobs_needing_invoice_count(*, limit: int) -> int:
    """How many jobs wait on Needs Invoice, counted up to `limit` (the tab badge says 100+)."""
    # An index-only read of at most `limit` entries of the partial index.
    return JobCard.objects.filter(invoice_pending=True).values("pk")[:limit].count()


def invoice_active_for_job(*, job: JobCard) -> Invoice | None:
    """The job's invoice that is not void, if any."""
    return Invoice.objects.filter(job=job).exclude(status=Invoice.Status.VOID).first()


# The invoice page's lists, each with the related rows it shows. Read by the Qoyod header and
# the credit-note card too (qoyod_sync's tags): the credit notes.
_DETAIL_LISTS: dict[str, tuple[str, ...]] = {
    "lines": ("service_item", "spare_part"),
    "history": ("changed_by",),
    "events": ("created_by",),
    "finance_history": (),
    "payments": ("created_by",),
    "credit_notes": (),
}
# Stands for the invoice's id while the lists' query is built (no invoice has it).
_ANY_INVOICE = -7_654_321


@functools.cache
def _detail_lists(using: str) -> RowsQuery:
    """The query of the invoice page's lists, built once per database."""
    stand_in = Invoice(pk=_ANY_INVOICE)
    stand_in._state.db = using
    return rows_query(
        [
            getattr(stand_in, name).select_related(*related)
            for name, related in _DETAIL_LISTS.items()
        ],
        invoice=_ANY_INVOICE,
    )


def invoice_detail(*, pk: int) -> Invoice:
    """One invoice with its lines, history and payments, ready for the invoice and print pages.

    Each line gets `vat_percent`, each status change `from_label` / `to_label`, each "edited"
    event `edit` (invoicing.history.EditDisplay); `invoice.timeline` is the status changes and
    events together, oldest first.
    """
    invoice = Invoice.objects.select_related(
        "branch",
        "customer",
        "vehicle",
        "job",
        "created_by",
        "replaces",
        "replaced_by",
        # Read by the Qoyod header and panel (qoyod_sync's tags): loaded once, here.
        "qoyod_sync__last_attempt_by",
        "qoyod_payment_state",
    ).get(pk=pk)
    # Every list of the page in one query; .all() on each relation returns what it read.
    lists = _detail_lists(invoice._state.db or "default").read(invoice=invoice.pk)
    for name, rows in zip(_DETAIL_LISTS, lists, strict=True):
        prefetched(invoice, name, rows)
    for event in invoice.events.all():
        if event.kind == InvoiceEvent.Kind.EDITED:
            event.edit = edit_display(event.details)
    invoice.timeline = sorted(
        [*invoice.history.all(), *invoice.events.all(), *invoice.finance_history.all()],
        key=lambda row: row.created_at if isinstance(row, InvoiceEvent) else row.changed_at,
    )
    return invoice


def invoice_versions(*, invoice: Invoice) -> list[Invoice]:
    """Every version of an invoice, oldest first, following replaces and replaced_by."""
    # A query per version: a chain grows by one link per correction, so it stays short. A
    # replacement is always created after what it replaces, so the chain cannot loop.
    # invoice_detail loads the neighbours of the invoice itself, so an invoice never corrected
    # costs no query here.
    rows = Invoice.objects.only("id", "number", "status", "issue_date", "total", "replaces_id")
    versions = [invoice]
    before = invoice.replaces
    while before is not None:
        versions.insert(0, before)
        before = rows.get(pk=before.replaces_id) if before.replaces_id is not None else None
    following: Invoice | None = getattr(invoice, "replaced_by", None)
    while following is not None:
        versions.append(following)
        following = rows.filter(replaces_id=following.pk).first()
    return versions


def invoice_catalogue(
    *, include_services: set[int] | None = None, include_parts: set[int] | None = None
) -> tuple[dict[int, ServiceItem], dict[int, SparePart]]:
    """Services and parts a line may link to: the active ones and any already on the lines."""
    # Items deactivated since the job was done must stay selectable on its invoice.
    services = ServiceItem.objects.filter(Q(is_active=True) | Q(pk__in=include_services or ()))
    parts = SparePart.objects.filter(Q(is_active=True) | Q(pk__in=include_parts or ()))
    return {s.pk: s for s in services}, {p.pk: p for p in parts}


def customers_for_invoice() -> QuerySet[Customer]:
    """Customers an invoice can be addressed to."""
    return Customer.objects.filter(is_active=True).order_by("name_en", "name_ar")


def vehicles_of_customer(*, customer_id: int | None) -> QuerySet[Vehicle]:
    """A customer's vehicles, for the invoice's vehicle select."""
    if customer_id is None:
        return Vehicle.objects.none()
    return Vehicle.objects.filter(customer_id=customer_id).order_by("plate_number")


def invoice_default_dates() -> tuple[datetime.date, datetime.date]:
    """Issue date today and due date after the configured payment term."""
    today = timezone.localdate()
    return today, today + datetime.timedelta(days=settings.INVOICE_PAYMENT_TERM_DAYS)


@dataclass(frozen=True)
class RateRow:
    rate: Decimal
    net: Decimal
    vat: Decimal
    category: str = TaxCategory.STANDARD

    @property
    def percent(self) -> Decimal:
        return self.rate * 100

    @property
    def category_label(self) -> str:
        return category_label(self.category)

    @property
    def is_standard(self) -> bool:
        return is_standard(self.category)

    @property
    def printed_category(self) -> tuple[str, str]:
        return PRINTED_CATEGORY[self.category]


def invoice_rate_summary(*, invoice: Invoice) -> list[RateRow]:
    """Net and VAT per VAT category and rate (ZATCA shows zero-rated and exempt amounts apart),
    summed from the stored (already adjusted) line amounts."""
    net: dict[tuple[Decimal, str], Decimal] = {}
    vat: dict[tuple[Decimal, str], Decimal] = {}
    for line in invoice.lines.all():
        key = (line.vat_rate, line.tax_category)
        net[key] = net.get(key, Decimal("0")) + line.line_net
        vat[key] = vat.get(key, Decimal("0")) + line.line_vat
    return [
        RateRow(rate=rate, net=net[(rate, category)], vat=vat[(rate, category)], category=category)
        for rate, category in sorted(net)
    ]


def invoice_issue_timestamp(*, invoice: Invoice) -> datetime.datetime:
    """When the invoice was issued: its creation time, or the start of an edited issue date."""
    created = timezone.localtime(invoice.created_at)
    if created.date() == invoice.issue_date:
        return created
    return timezone.make_aware(datetime.datetime.combine(invoice.issue_date, datetime.time()))


def invoice_zatca_qr(*, invoice: Invoice) -> str | None:
    """The ZATCA simplified-invoice QR as inline SVG; None when Qoyod issues the tax invoice."""
    # An invoice bound for Qoyod gets its QR there once approved: two QR codes for one sale
    # would be two tax invoices.
    if invoice.tax_invoice_in_qoyod:
        return None
    payload = zatca_qr_base64(
        seller_name=settings.SELLER_NAME,
        vat_number=settings.SELLER_VAT_NUMBER,
        timestamp=invoice_issue_timestamp(invoice=invoice),
        total=invoice.total,
        vat_total=invoice.vat_total,
    )
    return zatca_qr_svg(payload)


# The home page's figures: each column or count is cut off at this many rows, so the page costs
# the same for a garage with 5 jobs or 50,000 (the figure reads "100+" at the cap).
HOME_CAP = 100
BOARD_CARDS = 8


class QoyodView:
    """The invoice list's Qoyod filter (?qoyod=...), which the home page's figures link to."""

    READY = "ready"
    AWAITING_APPROVAL = "awaiting_approval"
    UNPAID = "unpaid"


def invoice_qoyod_q(view: str) -> Q:
    """Invoices in one Qoyod view, by the lookups of qoyod_sync's and payments' rows.

    READY is the query form of qoyod_sync.status.effective_state == READY (invoicing does not
    import qoyod_sync, design.md §1; tests/test_home.py checks the two agree).
    """
    if view == QoyodView.READY:
        never_sent = Q(qoyod_sync__isnull=True)
        waiting = Q(qoyod_sync__state__in=["ready", "not_required"])
        return (
            Q(requires_qoyod=True, qoyod_managed=False)
            & ~Q(status=Invoice.Status.VOID)
            & (never_sent | waiting)
        )
    if view == QoyodView.AWAITING_APPROVAL:
        # A draft not read back yet is waiting for the accountant as much as one read as such.
        not_read = Q(qoyod_payment_state__isnull=True) | Q(qoyod_payment_state__qoyod_status="")
        read_as_waiting = Q(qoyod_payment_state__qoyod_status__in=["draft", "awaiting_approval"])
        return (
            Q(qoyod_sync__state="draft_created")
            & ~Q(status=Invoice.Status.VOID)
            & (not_read | read_as_waiting)
        )
    if view == QoyodView.UNPAID:
        return Q(qoyod_payment_state__qoyod_status__in=["approved", "partially_paid"]) & ~Q(
            status=Invoice.Status.VOID
        )
    raise ValueError(view)


def _capped_count(queryset: QuerySet) -> int:
    return queryset.values("pk")[:HOME_CAP].count()


@dataclass(frozen=True)
class BoardColumn:
    key: str
    jobs: list[JobCard]
    count: int

    @property
    def capped(self) -> bool:
        return self.count >= HOME_CAP

    @property
    def more(self) -> int:
        return self.count - len(self.jobs)


def job_board(*, jobs: QuerySet[JobCard], today: datetime.date) -> list[BoardColumn]:
    """The job board's four columns over the jobs the user may see: open and in progress
    (oldest first: the next to work on), completed and waiting for an invoice (oldest first:
    the next to invoice) and invoiced today (newest first)."""
    invoiced_today = Exists(
        Invoice.objects.filter(job=OuterRef("pk"), issue_date=today).exclude(
            status=Invoice.Status.VOID
        )
    )
    columns = [
        ("open", jobs.filter(status=JobCard.Status.OPEN).order_by("created_at", "pk")),
        (
            "in_progress",
            jobs.filter(status=JobCard.Status.IN_PROGRESS).order_by("created_at", "pk"),
        ),
        (
            "waiting",
            jobs.filter(invoice_pending=True).order_by("completed_at", "pk"),
        ),
        (
            "invoiced_today",
            jobs.filter(status=JobCard.Status.COMPLETED)
            .filter(invoiced_today)
            .order_by("-completed_at", "-pk"),
        ),
    ]
    return [
        BoardColumn(key=key, jobs=list(queryset[:BOARD_CARDS]), count=_capped_count(queryset))
        for key, queryset in columns
    ]


@dataclass(frozen=True)
class DayFigures:
    opened: int
    completed: int
    invoiced: int
    invoiced_total: Decimal
    unpaid_count: int
    unpaid_total: Decimal


def day_figures(*, jobs: QuerySet[JobCard], today: datetime.date) -> DayFigures:
    """Today's counts over the jobs the user may see, and what customers owe at the counter
    (invoices paid here; Qoyod-managed ones are paid in Qoyod)."""
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    end = start + datetime.timedelta(days=1)
    job_counts = jobs.aggregate(
        opened=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)),
        completed=Count("pk", filter=Q(completed_at__gte=start, completed_at__lt=end)),
    )
    issued = Invoice.objects.exclude(status=Invoice.Status.VOID)
    money = issued.aggregate(
        invoiced=Count("pk", filter=Q(issue_date=today)),
        invoiced_total=Sum("total", filter=Q(issue_date=today), default=Decimal("0")),
        unpaid_count=Count("pk", filter=Q(balance__gt=0, qoyod_managed=False)),
        unpaid_total=Sum(
            "balance", filter=Q(balance__gt=0, qoyod_managed=False), default=Decimal("0")
        ),
    )
    return DayFigures(**job_counts, **money)


@dataclass(frozen=True)
class FinanceFigures:
    needs_invoice: int
    ready: int
    awaiting_approval: int
    unpaid: int
    unpaid_total: Decimal
    cap: int = HOME_CAP


def finance_figures() -> FinanceFigures:
    """The accountant's counts, each a link to the list it counts."""
    unpaid = Invoice.objects.filter(invoice_qoyod_q(QoyodView.UNPAID))
    return FinanceFigures(
        needs_invoice=jobs_needing_invoice_count(limit=HOME_CAP),
        ready=_capped_count(Invoice.objects.filter(invoice_qoyod_q(QoyodView.READY))),
        awaiting_approval=_capped_count(
            Invoice.objects.filter(invoice_qoyod_q(QoyodView.AWAITING_APPROVAL))
        ),
        unpaid=_capped_count(unpaid),
        unpaid_total=unpaid.aggregate(
            due=Sum("qoyod_payment_state__qoyod_due", default=Decimal("0"))
        )["due"],
    )


def invoice_print_context(*, invoice: Invoice) -> dict[str, object]:
    """What the printable invoice (print.html) draws, on screen and as a PDF."""
    return {
        "invoice": invoice,
        "rates": invoice_rate_summary(invoice=invoice),
        "qr_svg": invoice_zatca_qr(invoice=invoice),
        "plate_ar": plate_in_arabic(invoice.vehicle_plate),
        "seller_name": settings.SELLER_NAME,
        "seller_vat_number": settings.SELLER_VAT_NUMBER,
    }
