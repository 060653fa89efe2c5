"""Sales and payments reported back by a finance system, and the Idempotency-Key on POSTs."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connections

from api.models import IdempotencyKey, Sale, SalePayment, Scope
from invoicing.models import Invoice, InvoiceStatusChange
from payments.models import Payment
from tests.api.conftest import caller
from tests.factories import BranchFactory
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory

pytestmark = pytest.mark.django_db
SALES = "/api/v1/sales/"


def _payment(amount: str, reference: str, date: str = "2026-03-05", method: str = "bank_transfer"):
    return {"amount": amount, "date": date, "method": method, "reference": reference}


def _sale(invoice: Invoice, *payments, reference: str = "ERP-INV-1", due: str = "2026-04-01"):
    return {
        "invoice": invoice.number,
        "external_reference": reference,
        "due_date": due,
        "payments": list(payments),
    }


def _state(invoice: Invoice) -> tuple:
    invoice.refresh_from_db()
    return (invoice.status, invoice.amount_paid, invoice.balance)


def _nothing_recorded(invoice: Invoice) -> None:
    assert _state(invoice) == (Invoice.Status.ISSUED, Decimal("0.00"), invoice.total)
    assert (Sale.objects.count(), Payment.objects.count(), SalePayment.objects.count()) == (0, 0, 0)


def test_a_sale_with_a_part_payment_leaves_the_invoice_partially_paid(api):
    invoice = InvoiceFactory()

    response = api.post(SALES, _sale(invoice, _payment("10.00", "PAY-1")), "json")

    assert response.status_code == 201
    assert response.json() == {
        "id": Sale.objects.get().pk,
        "invoice": invoice.number,
        "external_reference": "ERP-INV-1",
        "due_date": "2026-04-01",
        "payment_status": "partially_paid",
        "total": f"{invoice.total:.2f}",
        "paid": "10.00",
        "balance": f"{invoice.total - 10:.2f}",
        "payments": [_payment("10.00", "PAY-1")],
    }
    payment = Payment.objects.get()
    assert (payment.amount, payment.paid_on, payment.method, payment.reference) == (
        Decimal("10.00"), datetime.date(2026, 3, 5), "bank_transfer", "PAY-1",
    )  # fmt: skip
    assert InvoiceStatusChange.objects.filter(invoice=invoice).last().to_status == "partially_paid"


def test_a_resent_sale_records_only_the_payments_not_seen_before(api):
    invoice = InvoiceFactory()
    first = _payment("10.00", "PAY-1")
    api.post(SALES, _sale(invoice, first), "json")
    rest = _payment(f"{invoice.total - 10:.2f}", "PAY-2", date="2026-03-20", method="card")

    response = api.post(SALES, _sale(invoice, first, rest, due="2026-04-15"), "json")

    assert response.status_code == 200
    body = response.json()
    assert (body["payment_status"], body["paid"], body["balance"], body["due_date"]) == (
        "paid", f"{invoice.total:.2f}", "0.00", "2026-04-15",
    )  # fmt: skip
    assert body["payments"] == [first, rest]
    assert Payment.objects.count() == 2
    assert _state(invoice) == (Invoice.Status.PAID, invoice.total, Decimal("0.00"))


def test_a_sale_without_payments_leaves_the_invoice_unpaid(api):
    invoice = InvoiceFactory()

    response = api.post(SALES, _sale(invoice), "json")

    assert (response.status_code, response.json()["payment_status"]) == (201, "unpaid")


def test_sales_are_listed_by_the_finance_systems_reference(api, make_client):
    one, two = InvoiceFactory(), InvoiceFactory()
    api.post(SALES, _sale(one, reference="ERP-1"), "json")
    api.post(SALES, _sale(two, reference="ERP-2"), "json")
    other_client = caller(make_client(scopes=[Scope.SALES_WRITE], name="Other ERP")[1])

    found = api.get(SALES, {"external_reference": "ERP-2"})
    everything = api.get(SALES)
    theirs = other_client.get(SALES)

    assert [s["invoice"] for s in found.json()["results"]] == [two.number]
    assert [s["external_reference"] for s in everything.json()["results"]] == ["ERP-1", "ERP-2"]
    assert theirs.json()["results"] == []


def test_a_reference_the_database_cannot_hold_is_a_400_in_the_api_shape(api):
    response = api.get(SALES, {"external_reference": "ERP-\x001"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"external_reference": ["Null characters are not allowed."]}


@pytest.mark.parametrize("reference", ["\x85", " ", "ERP-1 "])
def test_a_reference_of_or_with_whitespace_is_matched_exactly_not_refused(api, reference):
    api.post(SALES, _sale(InvoiceFactory(), reference="ERP-1"), "json")

    response = api.get(SALES, {"external_reference": reference})

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("10.555", "An amount has at most two decimal places."),
        (10.5, 'Send the amount as a string such as "12.50", not a JSON number with a fraction.'),
        ("-5.00", "An amount cannot be negative."),
        ("0.00", "The amount must be more than zero."),
    ],
)
def test_bad_amounts_are_400_and_record_nothing(api, amount, message):
    invoice = InvoiceFactory()
    body = _sale(invoice, {**_payment("1.00", "PAY-1"), "amount": amount})

    response = api.post(SALES, body, "json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"payments.0.amount": [message]}
    _nothing_recorded(invoice)


def test_one_payment_listed_twice_counts_once_and_two_under_one_reference_are_409(api):
    invoice = InvoiceFactory()
    twice = _sale(invoice, _payment("1.00", "PAY-1"), _payment("1.00", "PAY-1"))
    clash = _sale(invoice, _payment("1.00", "PAY-2"), _payment("2.00", "PAY-2"))

    counted = api.post(SALES, twice, "json")
    refused = api.post(SALES, clash, "json")

    assert (counted.status_code, counted.json()["paid"]) == (201, "1.00")
    assert (refused.status_code, refused.json()["code"]) == (409, "payment_conflict")
    assert list(Payment.objects.values_list("reference", flat=True)) == ["PAY-1"]


def test_a_sale_for_a_qoyod_invoice_is_409_and_records_nothing(api):
    invoice = InvoiceFactory(requires_qoyod=True)

    response = api.post(SALES, _sale(invoice, _payment("1.00", "PAY-1")), "json")

    assert response.status_code == 409
    assert response.json()["code"] == "qoyod_managed"
    assert response.json()["detail"] == (
        f"{invoice.number} is invoiced through Qoyod, which owns its payments."
    )
    _nothing_recorded(invoice)


def test_an_over_payment_is_422_and_records_nothing(api):
    invoice = InvoiceFactory()

    response = api.post(SALES, _sale(invoice, _payment(f"{invoice.total + 1:.2f}", "P-1")), "json")

    assert response.status_code == 422
    assert response.json()["code"] == "overpayment"
    assert response.json()["params"] == {
        "amount": f"{invoice.total + 1:.2f}",
        "balance": f"{invoice.total:.2f}",
    }
    _nothing_recorded(invoice)


def test_a_payment_reference_resent_with_another_amount_is_409_and_changes_nothing(api):
    invoice = InvoiceFactory()
    api.post(SALES, _sale(invoice, _payment("10.00", "PAY-1")), "json")

    response = api.post(SALES, _sale(invoice, _payment("12.00", "PAY-1")), "json")

    assert (response.status_code, response.json()["code"]) == (409, "payment_conflict")
    assert _state(invoice) == (Invoice.Status.PARTIALLY_PAID, Decimal("10.00"), invoice.total - 10)


def test_another_sale_number_for_the_same_invoice_is_409_with_both(api):
    invoice = InvoiceFactory()
    api.post(SALES, _sale(invoice, reference="ERP-1"), "json")

    response = api.post(SALES, _sale(invoice, reference="ERP-2"), "json")

    assert response.status_code == 409
    assert response.json()["params"] == {"current": "ERP-1", "requested": "ERP-2"}
    assert list(Sale.objects.values_list("external_reference", flat=True)) == ["ERP-1"]


def test_a_sale_for_another_branchs_invoice_is_404(make_client):
    invoice = InvoiceFactory(job=CompletedJobFactory(branch=BranchFactory()))
    api = caller(make_client(branch=BranchFactory())[1])

    response = api.post(SALES, _sale(invoice, _payment("1.00", "PAY-1")), "json")

    assert response.status_code == 404
    _nothing_recorded(invoice)


@pytest.mark.parametrize("scope", sorted(set(Scope.values) - {Scope.SALES_WRITE}))
def test_posting_a_sale_needs_the_sales_scope(make_client, scope):
    invoice = InvoiceFactory()
    api = caller(make_client(scopes=[scope])[1])

    response = api.post(SALES, _sale(invoice, _payment("1.00", "PAY-1")), "json")

    assert response.status_code == 403
    _nothing_recorded(invoice)


# Idempotency-Key


def test_the_same_key_and_body_get_the_stored_answer_and_nothing_twice(api):
    invoice = InvoiceFactory()
    body = _sale(invoice, _payment("10.00", "PAY-1"))

    first = api.post(SALES, body, "json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(SALES, body, "json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert (first.get("Idempotent-Replayed"), again["Idempotent-Replayed"]) == (None, "true")
    assert Payment.objects.count() == 1


def test_the_same_key_with_another_body_is_422_and_changes_nothing(api):
    invoice = InvoiceFactory()
    api.post(SALES, _sale(invoice, _payment("10.00", "PAY-1")), "json", HTTP_IDEMPOTENCY_KEY="k")

    response = api.post(
        SALES, _sale(invoice, _payment("20.00", "PAY-2")), "json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Payment.objects.values_list("amount", flat=True)) == [Decimal("10.00")]


def test_an_error_answer_is_stored_too_and_a_key_is_per_client(api, make_client):
    invoice = InvoiceFactory(requires_qoyod=True)
    body = _sale(invoice)
    other = caller(make_client(name="Other ERP")[1])

    first = api.post(SALES, body, "json", HTTP_IDEMPOTENCY_KEY="k")
    again = api.post(SALES, body, "json", HTTP_IDEMPOTENCY_KEY="k")
    theirs = other.post(SALES, body, "json", HTTP_IDEMPOTENCY_KEY="k")

    assert [first.status_code, again.status_code, theirs.status_code] == [409, 409, 409]
    assert again.json() == first.json()
    assert (again["Idempotent-Replayed"], theirs.get("Idempotent-Replayed")) == ("true", None)
    assert IdempotencyKey.objects.count() == 2


def test_the_processed_report_takes_the_key_too(api):
    invoice = InvoiceFactory()
    url = f"/api/v1/invoices/{invoice.number}/processed/"

    api.post(url, {"reference": "ERP-1"}, "json", HTTP_IDEMPOTENCY_KEY="p")
    response = api.post(url, {"reference": "ERP-2"}, "json", HTTP_IDEMPOTENCY_KEY="p")

    assert (response.status_code, response.json()["code"]) == (422, "idempotency_key_reused")
    invoice.refresh_from_db()
    assert invoice.finance_reference == "ERP-1"


def test_an_overlong_key_is_400(api):
    invoice = InvoiceFactory()

    response = api.post(SALES, _sale(invoice), "json", HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]
    _nothing_recorded(invoice)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_have_one_effect(require_postgres, make_client):
    invoice = InvoiceFactory()
    token = make_client(scopes=[Scope.SALES_WRITE])[1]
    body = _sale(invoice, _payment("10.00", "PAY-1"))
    barrier = threading.Barrier(2)
    answers: list[tuple[int, dict]] = []

    def call() -> None:
        try:
            barrier.wait()
            response = caller(token).post(SALES, body, "json", HTTP_IDEMPOTENCY_KEY="same")
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Without the key the second would answer 200 (the sale exists); with it, the first's 201.
    assert [status for status, _body in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert (Sale.objects.count(), Payment.objects.count(), IdempotencyKey.objects.count()) == (
        1, 1, 1,
    )  # fmt: skip
    assert _state(invoice) == (Invoice.Status.PARTIALLY_PAID, Decimal("10.00"), invoice.total - 10)
