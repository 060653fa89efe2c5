"""API v1 views: the unprocessed queue, one invoice, and processed / failed reports.

Views stay thin: reads come from querysets here or invoicing.selectors, writes from
invoicing.processing. A client restricted to a branch sees only that branch: another branch's
invoice is 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, renderers, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import idempotency
from api.exceptions import Conflict, PdfNotAvailable, Unprocessable
from api.idempotency import idempotent
from api.models import ApiClient, Sale, Scope
from api.pagination import ApiCursorPagination, FinanceQueuePagination
from api.sales import SalePaymentData, SaleRefused, sale_record
from api.serializers import (
    ErrorSerializer,
    FailedSerializer,
    InvoiceDetailSerializer,
    ProcessedSerializer,
    ProcessingSerializer,
    QueueItemSerializer,
    SaleInSerializer,
    SaleSerializer,
)
from invoicing import processing, selectors
from invoicing.models import FINANCE_QUEUE, Invoice
from invoicing.pdf import PdfUnavailable, invoice_pdf

NUMBER_PATTERN = r"^[A-Za-z0-9_-]{1,25}$"


def _errors(*codes: int, **overrides: str) -> dict[int, OpenApiResponse]:
    """Error answers for the schema; `overrides` (e.g. `e404=...`) word one for an endpoint."""
    described = {
        400: "The body or a parameter is not valid.",
        401: "No token, or an unknown, expired or revoked one.",
        403: "The token lacks the scope.",
        404: "No such invoice, or not in the client's branch.",
        409: "The invoice's state does not allow it; `params` holds both references.",
        422: "It cannot be done (an over-payment), or the Idempotency-Key was used for "
        "another request.",
        429: "Too many requests; retry after the Retry-After header's seconds.",
        503: "This server cannot make PDFs (its PDF library is not installed).",
    }
    described |= {int(key[1:]): text for key, text in overrides.items()}
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in codes}


_NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, pattern=NUMBER_PATTERN, description="Invoice number."
)


class ApiView(APIView):
    required_scope: str

    @property
    def client(self) -> ApiClient:
        assert isinstance(self.request.auth, ApiClient)
        return self.request.auth

    def invoices(self) -> QuerySet[Invoice]:
        invoices = Invoice.objects.all()
        if self.client.branch_id is not None:
            invoices = invoices.filter(branch_id=self.client.branch_id)
        return invoices

    def invoice_by_number(self, number: str) -> Invoice:
        return get_object_or_404(self.invoices(), number=number)


@extend_schema(
    summary="Unprocessed invoices",
    description=(
        "Issued invoices that Qoyod does not handle and that the finance system has not "
        "processed, plus voids of processed invoices (kind `cancellation`), in the order they "
        "entered the queue. Follow `next` until it is null; an item leaves the queue once "
        "reported processed or failed."
    ),
    responses={200: QueueItemSerializer(many=True), **_errors(400, 401, 403, 404, 429)},
    tags=["invoices"],
)
class UnprocessedInvoiceList(ApiView, generics.ListAPIView):
    required_scope = Scope.INVOICES_READ
    serializer_class = QueueItemSerializer
    pagination_class = FinanceQueuePagination

    def get_queryset(self) -> QuerySet[Invoice]:
        # Only the columns an item shows: a page is 50 wide invoice rows otherwise.
        return (
            self.invoices()
            .filter(FINANCE_QUEUE)
            .select_related("branch")
            .only(*QueueItemSerializer.COLUMNS)
        )


class _InvoiceDetail(ApiView):
    required_scope = Scope.INVOICES_READ

    def answer(self, invoice: Invoice) -> Response:
        invoice = selectors.invoice_detail(pk=invoice.pk)
        versions = selectors.invoice_versions(invoice=invoice)
        invoice.version = next(  # type: ignore[attr-defined]
            i for i, v in enumerate(versions, start=1) if v.pk == invoice.pk
        )
        return Response(InvoiceDetailSerializer(invoice).data)


@extend_schema(
    summary="One invoice by number",
    parameters=[_NUMBER],
    responses={200: InvoiceDetailSerializer, **_errors(401, 403, 404, 429)},
    tags=["invoices"],
)
class InvoiceByNumber(_InvoiceDetail):
    def get(self, request: Request, number: str) -> Response:
        return self.answer(self.invoice_by_number(number))


@extend_schema(
    summary="One invoice by id",
    responses={200: InvoiceDetailSerializer, **_errors(401, 403, 404, 429)},
    tags=["invoices"],
)
class InvoiceById(_InvoiceDetail):
    def get(self, request: Request, pk: int) -> Response:
        return self.answer(get_object_or_404(self.invoices(), pk=pk))


class PdfRenderer(renderers.BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; the view answers the bytes itself."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        return data if isinstance(data, bytes) else b""


@extend_schema(
    summary="One invoice as a PDF",
    description="The invoice statement as printed: bilingual, with the simplified-invoice QR code.",
    parameters=[_NUMBER],
    responses={
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
        **_errors(401, 403, 404, 429, 503),
    },
    tags=["invoices"],
)
class InvoicePdf(ApiView):
    required_scope = Scope.INVOICES_READ
    renderer_classes = [renderers.JSONRenderer, PdfRenderer]

    def get(self, request: Request, number: str) -> HttpResponse:
        invoice = self.invoice_by_number(number)
        try:
            pdf = invoice_pdf(invoice=invoice)
        except PdfUnavailable as exc:
            raise PdfNotAvailable() from exc
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
        return response

    def finalize_response(self, request: Request, response: Any, *args, **kwargs) -> Any:
        # Errors are JSON in the API's shape even to a client that asked for a PDF.
        if isinstance(response, Response):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = renderers.JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def _conflict(exc: processing.FinanceConflict) -> Conflict:
    return Conflict(
        exc.detail, code=exc.code, params={"current": exc.current, "requested": exc.requested}
    )


@extend_schema(
    summary="Mark an invoice processed",
    description=(
        "The finance system has taken the invoice (or, for a cancellation item, the void) under "
        "its `reference`. Repeating the call with the same reference answers the same; another "
        "reference is 409 with both."
    ),
    parameters=[_NUMBER, idempotency.PARAMETER],
    request=ProcessedSerializer,
    responses={200: ProcessingSerializer, **_errors(400, 401, 403, 404, 409, 422, 429)},
    tags=["invoices"],
)
class InvoiceProcessed(ApiView):
    required_scope = Scope.INVOICES_WRITE

    @idempotent
    def post(self, request: Request, number: str) -> Response:
        invoice = self.invoice_by_number(number)
        body = ProcessedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            invoice = processing.invoice_mark_processed(
                invoice=invoice, reference=body.validated_data["reference"], client=self.client.name
            )
        except processing.FinanceConflict as exc:
            raise _conflict(exc) from exc
        return Response(ProcessingSerializer(invoice).data, status=status.HTTP_200_OK)


@extend_schema(
    summary="Mark an invoice failed",
    description=(
        "The finance system could not take the invoice: it leaves the queue and staff see the "
        "reason, void and reissue it; the new version enters the queue."
    ),
    parameters=[_NUMBER, idempotency.PARAMETER],
    request=FailedSerializer,
    responses={200: ProcessingSerializer, **_errors(400, 401, 403, 404, 409, 422, 429)},
    tags=["invoices"],
)
class InvoiceFailed(ApiView):
    required_scope = Scope.INVOICES_WRITE

    @idempotent
    def post(self, request: Request, number: str) -> Response:
        invoice = self.invoice_by_number(number)
        body = FailedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            invoice = processing.invoice_mark_failed(
                invoice=invoice, reason=body.validated_data["reason"], client=self.client.name
            )
        except processing.FinanceConflict as exc:
            raise _conflict(exc) from exc
        return Response(ProcessingSerializer(invoice).data)


class SaleFilter(serializers.Serializer):
    # Matched exactly as the finance system wrote it: trimming would turn a reference of
    # whitespace (U+0085 included) into a blank, refused, one.
    external_reference = serializers.CharField(
        required=False, max_length=100, trim_whitespace=False
    )


class SaleList(ApiView, generics.ListAPIView):
    required_scope = Scope.SALES_WRITE
    serializer_class = SaleSerializer
    pagination_class = ApiCursorPagination

    def get_queryset(self) -> QuerySet[Sale]:
        sales = (
            Sale.objects.filter(client=self.client)
            .select_related("invoice")
            .prefetch_related("payments__payment")
        )
        if self.client.branch_id is not None:
            sales = sales.filter(invoice__branch_id=self.client.branch_id)
        # Through a field, so a value the database cannot hold (a NUL byte) is a 400, not a 500.
        filters = SaleFilter(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        if "external_reference" in filters.validated_data:
            sales = sales.filter(external_reference=filters.validated_data["external_reference"])
        return sales

    @extend_schema(
        summary="Sales reported by this client",
        parameters=[
            OpenApiParameter(
                "external_reference",
                str,
                description="The finance system's invoice number.",
                # PostgreSQL text cannot hold NUL, and the filter takes 100 characters at most: it
                # answers 400 for either, so the schema says so.
                pattern="^[^\\x00]{0,100}$",
            )
        ],
        responses={200: SaleSerializer(many=True), **_errors(400, 401, 403, 404, 429)},
        tags=["sales"],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Report a sale and its payments",
        description=(
            "The finance system's invoice for one of ours, its due date and the payments it "
            "received. Payments are known by their `reference`: sending the sale again records "
            "only new ones. The answer holds the invoice's payment status here (201 for a new "
            "sale, 200 for one sent before)."
        ),
        parameters=[idempotency.PARAMETER],
        request=SaleInSerializer,
        responses={
            200: SaleSerializer,
            201: SaleSerializer,
            **_errors(400, 401, 403, 404, 409, 422, 429),
        },
        tags=["sales"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = SaleInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        invoice = self.invoice_by_number(data["invoice"])
        payments = [
            SalePaymentData(amount=p["amount"], paid_on=p["date"], method=p["method"],
                            reference=p["reference"])
            for p in data.get("payments", [])
        ]  # fmt: skip
        try:
            sale, created = sale_record(
                client=self.client, invoice=invoice, external_reference=data["external_reference"],
                due_date=data["due_date"], payments=payments,
            )  # fmt: skip
        except SaleRefused as exc:
            refusal = Conflict if exc.status == 409 else Unprocessable
            raise refusal(exc.detail, code=exc.code, params=exc.params) from exc
        sale = self.get_queryset().get(pk=sale.pk)
        return Response(
            SaleSerializer(sale).data, status=status.HTTP_201_CREATED if created else 200
        )


@extend_schema(exclude=True)
class NotFoundView(APIView):
    """Any other path under /api/: a JSON 404 in the error shape, not the site's HTML page."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound()
