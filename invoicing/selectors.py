"""Reads for the invoice pages: the invoice list, Needs Invoice, one invoice with its history."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from core.search import search_q
from garage.models import Customer, JobCard, ServiceItem, SparePart, Vehicle
from invoicing.history import edit_display
from invoicing.models import Invoice, InvoiceEvent, InvoiceLine, InvoiceStatusChange
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
)


def qoyod_connected_default() -> bool:
    """Initial value of Requires Qoyod invoice on a new invoice: on when Qoyod is connected."""
    # Looked up through the app registry, not imported: invoicing never imports qoyod_sync
    # (design.md §1), and the model is the one fact this needs.
    return apps.get_model("qoyod_sync", "QoyodConnection").objects.exists()


def invoice_search_q(text: str) -> Q:
    """Invoices whose number, customer name (en/ar), mobile or plate matches `text`."""
    return search_q(
        text,
        fields=["number", "customer_name", "customer_name_ar"],
        phone="customer_phone",
        plate="vehicle_plate",
    )


def invoice_list(*, search: str = "") -> QuerySet[Invoice]:
    """Invoices newest first (the invoice_list_order index), narrowed by a free-text search."""
    # Every column shown is a snapshot on the invoice row, so the list needs no join.
    invoices = Invoice.objects.only(*_LIST_COLUMNS).order_by("-issue_date", "-id")
    if search.strip():
        invoices = invoices.filter(invoice_search_q(search))
    return invoices


def _active_invoice_exists() -> Exists:
    return Exists(Invoice.objects.filter(job=OuterRef("pk")).exclude(status=Invoice.Status.VOID))


def jobs_needing_invoice(*, search: str = "") -> QuerySet[JobCard]:
    """Completed jobs with no active invoice: never invoiced, or void and not reissued."""
    last_void = Invoice.objects.filter(job=OuterRef("pk"), status=Invoice.Status.VOID).order_by(
        "-id"
    )
    jobs = (
        JobCard.objects.filter(status=JobCard.Status.COMPLETED)
        .filter(~_active_invoice_exists())
        .select_related("branch", "customer", "vehicle")
        .annotate(last_void_number=Subquery(last_void.values("number")[:1]))
        .order_by("-completed_at", "-id")
    )
    search = search.strip()
    if search:
        jobs = jobs.filter(
            search_q(
                search,
                fields=["number", "customer__name_en", "customer__name_ar"],
                phone="customer__phone",
                plate="vehicle__plate_number",
            )
        )
    return jobs


def jobs_needing_invoice_count(*, limit: int) -> int:
    """How many jobs wait on Needs Invoice, counted up to `limit` (the tab badge says 100+)."""
    # The anti-join visits every completed job; the limit lets PostgreSQL stop early when many
    # are waiting instead of counting them all on every page view.
    return (
        JobCard.objects.filter(status=JobCard.Status.COMPLETED)
        .filter(~_active_invoice_exists())
        .values("pk")[:limit]
        .count()
    )


def invoice_active_for_job(*, job: JobCard) -> Invoice | None:
    """The job's invoice that is not void, if any."""
    return Invoice.objects.filter(job=job).exclude(status=Invoice.Status.VOID).first()


def invoice_detail(*, pk: int) -> Invoice:
    """One invoice with its lines, history and payments, ready for the invoice and print pages.

    Each line gets `vat_percent`, each status change `from_label` / `to_label`, each "edited"
    event `edit` (invoicing.history.EditDisplay); `invoice.timeline` is the status changes and
    events together, oldest first.
    """
    invoice = (
        Invoice.objects.select_related(
            "branch", "customer", "vehicle", "job", "created_by", "replaces"
        )
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=InvoiceLine.objects.select_related("service_item", "spare_part"),
            ),
            Prefetch("history", queryset=InvoiceStatusChange.objects.select_related("changed_by")),
            Prefetch("events", queryset=InvoiceEvent.objects.select_related("created_by")),
            "payments__created_by",
        )
        .get(pk=pk)
    )
    for event in invoice.events.all():
        if event.kind == InvoiceEvent.Kind.EDITED:
            event.edit = edit_display(event.details)
    invoice.timeline = sorted(
        [*invoice.history.all(), *invoice.events.all()],
        key=lambda row: row.created_at if isinstance(row, InvoiceEvent) else row.changed_at,
    )
    return invoice


def invoice_versions(*, invoice: Invoice) -> list[Invoice]:
    """Every version of an invoice, oldest first, following replaces and replaced_by."""
    # A query per version: a chain grows by one link per correction, so it stays short. A
    # replacement is always created after what it replaces, so the chain cannot loop.
    rows = Invoice.objects.only("id", "number", "status", "issue_date", "total", "replaces_id")
    versions = [invoice]
    while versions[0].replaces_id is not None:
        versions.insert(0, rows.get(pk=versions[0].replaces_id))
    while (following := rows.filter(replaces_id=versions[-1].pk).first()) is not None:
        versions.append(following)
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

    @property
    def percent(self) -> Decimal:
        return self.rate * 100


def invoice_rate_summary(*, invoice: Invoice) -> list[RateRow]:
    """Net and VAT per VAT rate, summed from the stored (already adjusted) line amounts."""
    net: dict[Decimal, Decimal] = {}
    vat: dict[Decimal, Decimal] = {}
    for line in invoice.lines.all():
        net[line.vat_rate] = net.get(line.vat_rate, Decimal("0")) + line.line_net
        vat[line.vat_rate] = vat.get(line.vat_rate, Decimal("0")) + line.line_vat
    return [RateRow(rate=rate, net=net[rate], vat=vat[rate]) for rate in sorted(net)]


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
    if invoice.requires_qoyod or invoice.qoyod_managed:
        return None
    payload = zatca_qr_base64(
        seller_name=settings.SELLER_NAME,
        vat_number=settings.SELLER_VAT_NUMBER,
        timestamp=invoice_issue_timestamp(invoice=invoice),
        total=invoice.total,
        vat_total=invoice.vat_total,
    )
    return zatca_qr_svg(payload)
