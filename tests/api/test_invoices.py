"""The unprocessed queue, one invoice, and processed / failed reports through the API."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework import serializers

from api.models import Scope
from api.serializers import QueueItemSerializer
from core import roles
from invoicing.models import FinanceState, Invoice, InvoiceFinanceChange
from invoicing.processing import invoice_mark_processed
from invoicing.services import invoice_reissue, invoice_void, invoice_void_and_reissue
from tests.api.conftest import caller
from tests.factories import BranchFactory, CompanyCustomerFactory, UserFactory
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory

pytestmark = pytest.mark.django_db
QUEUE = "/api/v1/invoices/unprocessed/"


def _numbers(response) -> list[str]:
    return [item["number"] for item in response.json()["results"]]


def _processed(api, number: str, reference: str):
    return api.post(f"/api/v1/invoices/{number}/processed/", {"reference": reference}, "json")


def test_the_queue_holds_issued_invoices_qoyod_does_not_own_and_cancellations_oldest_first(api):
    first, second = InvoiceFactory(), InvoiceFactory()
    InvoiceFactory(requires_qoyod=True)
    never_processed = InvoiceFactory()
    invoice_void(invoice=never_processed, reason="typo", user=None)
    invoice_mark_processed(invoice=first, reference="ERP-1", client="ERP")
    invoice_void(invoice=first, reason="wrong customer", user=None)

    response = api.get(QUEUE)

    assert response.status_code == 200
    assert [(i["number"], i["kind"]) for i in response.json()["results"]] == [
        (second.number, "invoice"),
        (first.number, "cancellation"),
    ]
    assert response.json()["results"][0]["total"] == f"{second.total:.2f}"


def test_the_queue_is_paged_by_cursor_without_count_or_offset(api, make_client):
    invoices = [InvoiceFactory() for _ in range(5)]

    with CaptureQueriesContext(connection) as queries:
        first = api.get(QUEUE, {"page_size": 2})
    second = api.get(first.json()["next"])
    third = api.get(second.json()["next"])

    sql = " ".join(q["sql"] for q in queries).upper()
    assert ("COUNT(" in sql, "OFFSET" in sql) == (False, False)
    assert _numbers(first) + _numbers(second) + _numbers(third) == [i.number for i in invoices]
    assert third.json()["next"] is None


def test_a_queue_page_makes_the_same_queries_for_1_and_50_invoices(api):
    first = InvoiceFactory()
    invoice_mark_processed(invoice=first, reference="ERP-1", client="ERP")
    invoice_void(invoice=first, reason="typo", user=None)
    api.get(QUEUE)  # the token's first use is recorded once

    with CaptureQueriesContext(connection) as one:
        assert len(api.get(QUEUE).json()["results"]) == 1
    for _ in range(49):
        InvoiceFactory(branch=BranchFactory())
    with CaptureQueriesContext(connection) as fifty:
        assert len(api.get(QUEUE).json()["results"]) == 50

    # The token's client, then the page with its branches.
    assert (len(one), len(fifty)) == (2, 2)


def test_a_queue_item_is_what_drfs_walk_over_its_fields_gives():
    issued = InvoiceFactory()
    cancelled = InvoiceFactory()
    invoice_mark_processed(invoice=cancelled, reference="ERP-1", client="ERP")
    invoice_void(invoice=cancelled, reason="typo", user=None)
    serializer = QueueItemSerializer()
    loaded = Invoice.objects.select_related("branch").only(*QueueItemSerializer.COLUMNS)

    items = [serializer.to_representation(loaded.get(pk=i.pk)) for i in (issued, cancelled)]

    assert items == [
        serializers.Serializer.to_representation(serializer, loaded.get(pk=i.pk))
        for i in (issued, cancelled)
    ]
    assert [(i["number"], i["kind"]) for i in items] == [
        (issued.number, "invoice"), (cancelled.number, "cancellation"),
    ]  # fmt: skip


def test_an_invoice_processed_while_a_client_walks_the_queue_does_not_shift_its_pages(api):
    invoices = [InvoiceFactory() for _ in range(4)]

    first = api.get(QUEUE, {"page_size": 2})
    _processed(api, invoices[0].number, "ERP-1")
    second = api.get(first.json()["next"])

    assert _numbers(second) == [invoices[2].number, invoices[3].number]


def test_a_branch_restricted_client_sees_only_its_branch_and_404_for_the_others(make_client):
    mine, theirs = BranchFactory(), BranchFactory()
    own = InvoiceFactory(job=CompletedJobFactory(branch=mine))
    other = InvoiceFactory(job=CompletedJobFactory(branch=theirs))
    api = caller(make_client(branch=mine)[1])

    listing = api.get(QUEUE)
    by_number = api.get(f"/api/v1/invoices/{other.number}/")
    by_id = api.get(f"/api/v1/invoices/id/{other.pk}/")
    processed = _processed(api, other.number, "ERP-9")

    assert _numbers(listing) == [own.number]
    assert [by_number.status_code, by_id.status_code, processed.status_code] == [404, 404, 404]
    other.refresh_from_db()
    assert (other.finance_state, other.finance_reference) == (FinanceState.PENDING, "")
    assert not InvoiceFinanceChange.objects.exists()


def test_an_invoice_answers_what_a_finance_system_needs(api):
    customer = CompanyCustomerFactory(name_en="Al Noor Trading", name_ar="النور للتجارة")
    job = CompletedJobFactory(customer=customer, vehicle__customer=customer)
    invoice = InvoiceFactory(job=job, issue_date=datetime.date(2026, 3, 1),
                             due_date=datetime.date(2026, 3, 31))  # fmt: skip

    by_number = api.get(f"/api/v1/invoices/{invoice.number}/")
    by_id = api.get(f"/api/v1/invoices/id/{invoice.pk}/")

    body = by_number.json()
    assert by_id.json() == body
    assert (body["issue_date"], body["due_date"], body["version"]) == (
        "2026-03-01",
        "2026-03-31",
        1,
    )
    assert body["customer"] == {
        "id": customer.pk,
        "kind": "company",
        "name_en": "Al Noor Trading",
        "name_ar": "النور للتجارة",
        "phone": customer.phone,
        "email": customer.email,
        "vat_number": customer.vat_number,
        "cr_number": customer.cr_number,
        "national_address": {
            "building_number": customer.building_number,
            "street": customer.street,
            "district": customer.district,
            "city": customer.city,
            "postal_code": customer.postal_code,
        },
    }
    vehicle = job.vehicle
    assert body["vehicle"] == {
        "make": vehicle.make,
        "model": vehicle.model,
        "year": vehicle.year,
        "plate_number": vehicle.plate_number,
        "vin": vehicle.vin,
    }
    assert body["branch"]["code"] == job.branch.code
    assert [(line["quantity"], line["unit_price"], line["vat_rate"], line["total"])
            for line in body["lines"]] == [
        (str(line.quantity.normalize()), f"{line.unit_price:.2f}", "0.15", f"{line.line_total:.2f}")
        for line in invoice.lines.all()
    ]  # fmt: skip
    assert body["totals"] == {
        "currency": "SAR",
        "net": f"{invoice.net_total:.2f}",
        "vat": f"{invoice.vat_total:.2f}",
        "total": f"{invoice.total:.2f}",
        "paid": "0.00",
        "balance": f"{invoice.balance:.2f}",
    }
    assert body["processing"] == {
        "number": invoice.number, "state": "pending", "in_queue": "invoice", "reference": "",
        "cancellation_reference": "", "failure_reason": "",
    }  # fmt: skip


def test_processed_leaves_the_queue_is_idempotent_and_shows_on_the_invoice_pages(api):
    invoice = InvoiceFactory()

    first = _processed(api, invoice.number, "ERP-000123")
    again = _processed(api, invoice.number, "ERP-000123")
    queue = api.get(QUEUE)
    staff = Client()
    staff.force_login(UserFactory(role=roles.ACCOUNTANT))
    listing = staff.get(reverse("invoicing:invoice_list")).content.decode()
    filtered = staff.get(reverse("invoicing:invoice_list"), {"finance_state": "processed"})
    detail = staff.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == again.json()
    assert first.json()["state"] == "processed"
    assert first.json()["reference"] == "ERP-000123"
    assert _numbers(queue) == []
    assert 'data-finance-state="processed"' in listing and "ERP-000123" in listing
    assert [i.number for i in filtered.context["page"]] == [invoice.number]
    assert "ERP-000123" in detail and 'data-testid="history-finance"' in detail
    assert list(invoice.finance_history.values_list("from_state", "to_state")) == [
        ("pending", "processed")
    ]


def test_another_reference_for_a_processed_invoice_is_409_with_both_and_changes_nothing(api):
    invoice = InvoiceFactory()
    _processed(api, invoice.number, "ERP-1")

    response = _processed(api, invoice.number, "ERP-2")

    assert response.status_code == 409
    assert response.json()["code"] == "reference_conflict"
    assert response.json()["params"] == {"current": "ERP-1", "requested": "ERP-2"}
    assert "ERP-1" in response.json()["detail"] and "ERP-2" in response.json()["detail"]
    invoice.refresh_from_db()
    assert invoice.finance_reference == "ERP-1"
    assert invoice.finance_history.count() == 1


@pytest.mark.parametrize("kind", ["qoyod", "void"])
def test_an_invoice_not_in_the_queue_is_409_and_unchanged(api, kind):
    invoice = InvoiceFactory(requires_qoyod=kind == "qoyod")
    if kind == "void":
        invoice_void(invoice=invoice, reason="typo", user=None)

    processed = _processed(api, invoice.number, "ERP-1")
    failed = api.post(f"/api/v1/invoices/{invoice.number}/failed/", {"reason": "x"}, "json")

    assert (processed.status_code, failed.status_code) == (409, 409)
    assert processed.json()["code"] == "not_in_queue"
    invoice.refresh_from_db()
    assert (invoice.finance_state, invoice.finance_reference) == ("pending", "")
    assert not invoice.finance_history.exists()


def test_a_cancellation_is_taken_with_its_own_reference_and_leaves_the_queue(api):
    invoice = InvoiceFactory()
    _processed(api, invoice.number, "ERP-1")
    invoice_void(invoice=invoice, reason="wrong customer", user=None)

    taken = _processed(api, invoice.number, "CN-1")
    again = _processed(api, invoice.number, "CN-1")

    assert (taken.status_code, again.status_code) == (200, 200)
    assert taken.json()["state"] == "cancelled"
    assert (taken.json()["reference"], taken.json()["cancellation_reference"]) == ("ERP-1", "CN-1")
    assert _numbers(api.get(QUEUE)) == []


def test_failed_shows_on_the_invoice_and_the_reissued_version_enters_the_queue(api):
    invoice = InvoiceFactory()

    failed = api.post(
        f"/api/v1/invoices/{invoice.number}/failed/", {"reason": "Unknown cost centre"}, "json"
    )
    staff = Client()
    staff.force_login(UserFactory(role=roles.ACCOUNTANT))
    detail = staff.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()
    filtered = staff.get(reverse("invoicing:invoice_list"), {"finance_state": "failed"})
    queue_after_failure = _numbers(api.get(QUEUE))
    replacement = invoice_void_and_reissue(invoice=invoice, reason="cost centre", user=None)
    reissued = api.get(QUEUE).json()["results"]

    assert failed.status_code == 200
    assert failed.json()["failure_reason"] == "Unknown cost centre"
    assert 'data-testid="finance-failure"' in detail and "Unknown cost centre" in detail
    assert [i.number for i in filtered.context["page"]] == [invoice.number]
    assert queue_after_failure == []
    assert [(i["number"], i["kind"]) for i in reissued] == [(replacement.number, "invoice")]
    version = api.get(f"/api/v1/invoices/{replacement.number}/").json()
    assert (version["version"], version["replaces"]) == (2, invoice.number)


def test_a_processed_or_failed_invoice_cannot_be_edited_only_voided_and_reissued(api):
    invoice = InvoiceFactory()
    _processed(api, invoice.number, "ERP-1")
    invoice.refresh_from_db()

    assert invoice.edit_refusal() == (
        f"{invoice.number} has been taken by the finance system: void and reissue it instead."
    )
    invoice_void(invoice=invoice, reason="correction", user=None)
    replacement = invoice_reissue(invoice=invoice, user=None)
    assert replacement.finance_state == FinanceState.PENDING


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("processed", {}, "reference"),
        ("processed", {"reference": ""}, "reference"),
        ("processed", {"reference": "   "}, "reference"),
        ("processed", {"reference": "x" * 101}, "reference"),
        ("processed", {"reference": ["ERP-1"]}, "reference"),
        ("failed", {"reason": ""}, "reason"),
        ("failed", {}, "reason"),
    ],
)
def test_a_malformed_body_is_400_with_field_errors_and_changes_nothing(api, path, body, field):
    invoice = InvoiceFactory()

    response = api.post(f"/api/v1/invoices/{invoice.number}/{path}/", body, "json")

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert list(response.json()["errors"]) == [field]
    invoice.refresh_from_db()
    assert invoice.finance_state == FinanceState.PENDING
    assert not invoice.finance_history.exists()


def test_a_body_that_is_not_json_is_400_in_the_error_shape(api):
    invoice = InvoiceFactory()

    response = api.post(
        f"/api/v1/invoices/{invoice.number}/processed/",
        "{not json",
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_an_unknown_invoice_and_an_unknown_path_are_json_404s(api):
    answers = [api.get("/api/v1/invoices/INV-1999-000001/"), api.get("/api/v1/nothing/here/")]

    assert [a.status_code for a in answers] == [404, 404]
    assert [a.json()["code"] for a in answers] == ["not_found", "not_found"]


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_processed_calls_make_one_transition_and_one_history_row(
    require_postgres, make_client
):
    invoice = InvoiceFactory()
    token = make_client(scopes=[Scope.INVOICES_WRITE])[1]
    barrier = threading.Barrier(10)
    answers: list[tuple[int, dict]] = []

    def call() -> None:
        try:
            barrier.wait()
            response = _processed(caller(token), invoice.number, "ERP-77")
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _body in answers] == [200] * 10
    assert len({str(body) for _status, body in answers}) == 1
    assert InvoiceFinanceChange.objects.filter(invoice=invoice).count() == 1
    assert Invoice.objects.get(pk=invoice.pk).finance_reference == "ERP-77"
