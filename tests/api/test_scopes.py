"""Scope × endpoint: each endpoint answers a client holding its scope, and 403s every other
scope; every API route is in the table, so a new endpoint cannot arrive without its scope."""

from __future__ import annotations

import pytest

from api.models import Scope
from garage.models import ContactPerson
from tests.api.conftest import caller
from tests.invoicing_factories import InvoiceFactory
from tests.routes import named_routes

pytestmark = pytest.mark.django_db

# (url name, method) -> (path with {number} / {pk} / {contact}, body, scope, status with it).
# Customer writes are 409 with the app as the customer master (the default): past the scope.
ENDPOINTS = {
    ("api:invoice_unprocessed", "GET"): (
        "/api/v1/invoices/unprocessed/", None, Scope.INVOICES_READ, 200,
    ),
    ("api:invoice_detail", "GET"): ("/api/v1/invoices/{number}/", None, Scope.INVOICES_READ, 200),
    ("api:invoice_by_id", "GET"): ("/api/v1/invoices/id/{pk}/", None, Scope.INVOICES_READ, 200),
    ("api:invoice_pdf", "GET"): ("/api/v1/invoices/{number}/pdf/", None, Scope.INVOICES_READ, 200),
    ("api:invoice_processed", "POST"): (
        "/api/v1/invoices/{number}/processed/", {"reference": "ERP-1"}, Scope.INVOICES_WRITE, 200,
    ),
    ("api:invoice_failed", "POST"): (
        "/api/v1/invoices/{number}/failed/", {"reason": "No cost centre"}, Scope.INVOICES_WRITE,
        200,
    ),
    ("api:sales", "GET"): ("/api/v1/sales/", None, Scope.SALES_WRITE, 200),
    ("api:customers", "GET"): ("/api/v1/customers/", None, Scope.CUSTOMERS_READ, 200),
    ("api:customers", "POST"): (
        "/api/v1/customers/", {"phone": "0551234567"}, Scope.CUSTOMERS_WRITE, 409,
    ),
    ("api:customer_detail", "GET"): (
        "/api/v1/customers/{customer}/", None, Scope.CUSTOMERS_READ, 200,
    ),
    ("api:customer_detail", "PATCH"): (
        "/api/v1/customers/{customer}/", {"name_en": "X"}, Scope.CUSTOMERS_WRITE, 409,
    ),
    ("api:customer_contacts", "GET"): (
        "/api/v1/customers/{customer}/contacts/", None, Scope.CUSTOMERS_READ, 200,
    ),
    ("api:customer_contacts", "POST"): (
        "/api/v1/customers/{customer}/contacts/", {"name": "X"}, Scope.CUSTOMERS_WRITE, 409,
    ),
    ("api:customer_contact_detail", "PATCH"): (
        "/api/v1/customers/{customer}/contacts/{contact}/", {"name": "X"}, Scope.CUSTOMERS_WRITE,
        409,
    ),
    ("api:customer_contact_detail", "DELETE"): (
        "/api/v1/customers/{customer}/contacts/{contact}/", None, Scope.CUSTOMERS_WRITE, 409,
    ),
    ("api:webhooks", "GET"): ("/api/v1/webhooks/", None, Scope.WEBHOOKS_MANAGE, 200),
    ("api:webhooks", "POST"): (
        "/api/v1/webhooks/", {"url": "https://erp.example.com/h", "events": ["invoice.issued"]},
        Scope.WEBHOOKS_MANAGE, 201,
    ),
    ("api:webhook_detail", "DELETE"): ("/api/v1/webhooks/0/", None, Scope.WEBHOOKS_MANAGE, 404),
}  # fmt: skip
PUBLIC = {"api:schema", "api:docs"}


def test_every_api_route_has_a_scope():
    routes = {name for name in named_routes() if name.startswith("api:")}

    assert routes == {name for name, _method in ENDPOINTS} | PUBLIC


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("scope", Scope.values)
def test_scope_matrix(endpoint, scope, make_client):
    _name, method = endpoint
    path, body, needed, answer = ENDPOINTS[endpoint]
    invoice = InvoiceFactory()
    contact = ContactPerson.objects.create(customer=invoice.customer, name="Sara")
    api = caller(make_client(scopes=[scope])[1])
    url = path.format(number=invoice.number, pk=invoice.pk, customer=invoice.customer_id,
                      contact=contact.pk)  # fmt: skip

    response = getattr(api, method.lower())(url, body, "json") if body else api.generic(method, url)

    assert response.status_code == (answer if scope == needed else 403)
    invoice.refresh_from_db()
    assert invoice.finance_history.exists() == (
        method == "POST" and scope == needed and answer == 200
    )
    assert ContactPerson.objects.filter(name="Sara").count() == 1
