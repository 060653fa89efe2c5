"""Customer master data over the API: customers and their contact persons (the seed's Customer
and Contact Person APIs). Reads need customers:read; writes need customers:write and the finance
system as the customer master (garage/master.py): with this app as master they are 409.

Customers belong to no branch, so a branch-restricted client sees them all.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api import idempotency
from api.exceptions import Conflict, field_errors
from api.idempotency import idempotent
from api.models import Scope
from api.pagination import ApiCursorPagination
from api.serializers import (
    ContactPersonInSerializer,
    ContactPersonSerializer,
    CustomerInSerializer,
    CustomerSerializer,
)
from api.views import ApiView, _errors
from garage import master, services, validators
from garage.models import ContactPerson, Customer

ADDRESS_FIELDS = ("building_number", "street", "district", "city", "postal_code")
_UNDER_ADDRESS = dict.fromkeys(ADDRESS_FIELDS, "national_address")
_CUSTOMER_ERRORS = {
    "e404": "No such customer (or contact person).",
    "e409": "This app keeps the customer master data, so the API cannot change customers "
    "(`code` customer_master_app).",
}


class CustomerPagination(ApiCursorPagination):
    # Oldest change first (the customer_updated index): a finance system that walks the list
    # with updated_since sees every change, and a customer changed again comes round again.
    ordering = ("updated_at", "id")


def _refuse_unless_finance_master() -> None:
    if not master.finance_is_master():
        raise Conflict(
            _(
                "This app keeps the customer master data: customers are changed by the "
                "garage's staff and only read over the API."
            ),
            code="customer_master_app",
            params={"customer_master": master.APP},
        )


class CustomerFilter(serializers.Serializer):
    updated_since = serializers.DateTimeField(required=False)
    vat_number = serializers.CharField(required=False, max_length=30)
    phone = serializers.CharField(required=False, max_length=20)
    # Matched exactly as the finance system wrote it: trimming would turn a reference of
    # whitespace (U+0085 included) into a blank, refused, one.
    external_reference = serializers.CharField(
        required=False, max_length=100, trim_whitespace=False
    )

    def validate_vat_number(self, value: str) -> str:
        return _normalised(validators.normalise_vat_number, value)

    def validate_phone(self, value: str) -> str:
        return _normalised(validators.normalise_phone, value)


def _normalised(normalise: Any, value: str) -> str:
    try:
        return normalise(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


_FILTERS = [
    OpenApiParameter(
        "updated_since", OpenApiTypes.DATETIME, description="Only customers changed at or after."
    ),
    OpenApiParameter(
        "vat_number", str, pattern=r"^3[0-9]{13}3$", description="15 digits, first and last 3."
    ),
    OpenApiParameter(
        "phone",
        str,
        pattern=r"^(\+966|00966|966|0)?5[0-9]{8}$",
        description="A Saudi mobile: 05XXXXXXXX or +9665XXXXXXXX (spaces are allowed too).",
    ),
    OpenApiParameter(
        "external_reference",
        str,
        description="The finance system's key.",
        # PostgreSQL text cannot hold NUL, and the filter takes 100 characters at most: it
        # answers 400 for either, so the schema says so.
        pattern="^[^\\x00]{0,100}$",
    ),
]


class CustomerList(ApiView, generics.ListAPIView):
    required_scope = Scope.CUSTOMERS_READ
    write_scope = Scope.CUSTOMERS_WRITE
    serializer_class = CustomerSerializer
    pagination_class = CustomerPagination

    def get_queryset(self) -> QuerySet[Customer]:
        filters = CustomerFilter(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        customers = Customer.objects.prefetch_related("contacts")
        if "updated_since" in wanted:
            customers = customers.filter(updated_at__gte=wanted["updated_since"])
        for name in ("vat_number", "phone", "external_reference"):
            if name in wanted:
                customers = customers.filter(**{name: wanted[name]})
        return customers

    @extend_schema(
        summary="Customers",
        description=(
            "Customer master data with contact persons, oldest change first. To keep a copy in "
            "sync, walk the pages with `updated_since` set to the start of your last walk."
        ),
        parameters=_FILTERS,
        responses={
            200: CustomerSerializer(many=True),
            **_errors(400, 401, 403, 404, 429, e404="The cursor is not one this list gave."),
        },
        tags=["customers"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a customer",
        description=(
            "Only when the finance system keeps the customer master data (otherwise 409). "
            "Validated as the app's form validates: a Saudi mobile, a VAT number of 15 digits "
            "starting and ending with 3 (needed for a company), a 10-digit CR number, a 4-digit "
            "building number and a 5-digit postal code."
        ),
        parameters=[idempotency.PARAMETER],
        request=CustomerInSerializer,
        responses={
            201: CustomerSerializer,
            **_errors(400, 401, 403, 409, 422, 429, **_CUSTOMER_ERRORS),
        },
        tags=["customers"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        _refuse_unless_finance_master()
        body = CustomerInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        address = data.pop("national_address", {})
        try:
            customer = services.customer_create(**data, **address)
        except DjangoValidationError as exc:
            raise field_errors(exc, _UNDER_ADDRESS) from exc
        return Response(_customer_data(customer.pk), status=status.HTTP_201_CREATED)


def _customer_data(pk: int) -> dict[str, Any]:
    return CustomerSerializer(Customer.objects.prefetch_related("contacts").get(pk=pk)).data


class CustomerDetail(ApiView):
    required_scope = Scope.CUSTOMERS_READ
    write_scope = Scope.CUSTOMERS_WRITE

    @extend_schema(
        summary="One customer",
        responses={200: CustomerSerializer, **_errors(401, 403, 404, 429, **_CUSTOMER_ERRORS)},
        tags=["customers"],
    )
    def get(self, request: Request, pk: int) -> Response:
        customer = get_object_or_404(Customer.objects.prefetch_related("contacts"), pk=pk)
        return Response(CustomerSerializer(customer).data)

    @extend_schema(
        summary="Change a customer",
        description=(
            "Send only the fields to change (the national address's parts too). Only when the "
            "finance system keeps the customer master data (otherwise 409)."
        ),
        request=CustomerInSerializer(partial=True),
        responses={
            200: CustomerSerializer,
            **_errors(400, 401, 403, 404, 409, 429, **_CUSTOMER_ERRORS),
        },
        tags=["customers"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        customer = get_object_or_404(Customer, pk=pk)
        _refuse_unless_finance_master()
        body = CustomerInSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        changes |= changes.pop("national_address", {})
        fields = ("kind", "name_en", "name_ar", "phone", "email", "vat_number", "cr_number",
                  "external_reference", *ADDRESS_FIELDS)  # fmt: skip
        values = {name: changes.get(name, getattr(customer, name)) for name in fields}
        try:
            services.customer_update(customer=customer, **values)
        except DjangoValidationError as exc:
            raise field_errors(exc, _UNDER_ADDRESS) from exc
        return Response(_customer_data(customer.pk))


class _ContactView(ApiView):
    required_scope = Scope.CUSTOMERS_READ
    write_scope = Scope.CUSTOMERS_WRITE

    def customer(self, pk: int) -> Customer:
        return get_object_or_404(Customer, pk=pk)

    def contact(self, pk: int, contact_pk: int) -> ContactPerson:
        return get_object_or_404(ContactPerson, customer_id=pk, pk=contact_pk)


class ContactList(_ContactView):
    @extend_schema(
        summary="A customer's contact persons",
        responses={
            200: ContactPersonSerializer(many=True),
            **_errors(401, 403, 404, 429, **_CUSTOMER_ERRORS),
        },
        tags=["customers"],
    )
    def get(self, request: Request, pk: int) -> Response:
        contacts = self.customer(pk).contacts.all()
        return Response(ContactPersonSerializer(contacts, many=True).data)

    @extend_schema(
        summary="Add a contact person",
        description="Only when the finance system keeps the customer master data.",
        parameters=[idempotency.PARAMETER],
        request=ContactPersonInSerializer,
        responses={
            201: ContactPersonSerializer,
            **_errors(400, 401, 403, 404, 409, 422, 429, **_CUSTOMER_ERRORS),
        },
        tags=["customers"],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk)
        _refuse_unless_finance_master()
        body = ContactPersonInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            contact = services.contactperson_create(customer=customer, **body.validated_data)
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(ContactPersonSerializer(contact).data, status=status.HTTP_201_CREATED)


class ContactDetail(_ContactView):
    @extend_schema(
        summary="Change a contact person",
        description="Send only the fields to change.",
        request=ContactPersonInSerializer(partial=True),
        responses={
            200: ContactPersonSerializer,
            **_errors(400, 401, 403, 404, 409, 429, **_CUSTOMER_ERRORS),
        },
        tags=["customers"],
    )
    def patch(self, request: Request, pk: int, contact_pk: int) -> Response:
        contact = self.contact(pk, contact_pk)
        _refuse_unless_finance_master()
        body = ContactPersonInSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        fields = ("name", "job_title", "phone", "email", "external_reference")
        values = {name: body.validated_data.get(name, getattr(contact, name)) for name in fields}
        try:
            contact = services.contactperson_update(contact=contact, **values)
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(ContactPersonSerializer(contact).data)

    @extend_schema(
        summary="Remove a contact person",
        responses={204: None, **_errors(401, 403, 404, 409, 429, **_CUSTOMER_ERRORS)},
        tags=["customers"],
    )
    def delete(self, request: Request, pk: int, contact_pk: int) -> Response:
        contact = self.contact(pk, contact_pk)
        _refuse_unless_finance_master()
        services.contactperson_delete(contact=contact)
        return Response(status=status.HTTP_204_NO_CONTENT)
