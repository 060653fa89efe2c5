"""What the client sends, and how it walks pages, on httpx.MockTransport."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from qoyod_sync.client import PAGE_SIZE, ClientOptions, QoyodReader, QoyodWriter, RetryPolicy
from qoyod_sync.types import Address
from tests.qoyod_sync.test_client_failures import API_KEY, BASE_URL, DRAFT, INVOICE_JSON


class Recorder:
    def __init__(self, respond) -> None:
        self.respond = respond
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.respond(request)

    def options(self, **overrides: object) -> ClientOptions:
        values: dict[str, object] = {
            "transport": httpx.MockTransport(self),
            "rate_limit_per_minute": 1_000_000,
            "burst": 1_000,
            "retry": RetryPolicy(sleep=lambda s: None),
        }
        values.update(overrides)
        return ClientOptions(**values)  # type: ignore[arg-type]

    def reader(self, **overrides: object) -> QoyodReader:
        return QoyodReader(base_url=BASE_URL, api_key=API_KEY, options=self.options(**overrides))

    def writer(self) -> QoyodWriter:
        return QoyodWriter(base_url=BASE_URL + "/", api_key=f"  {API_KEY} ", options=self.options())

    def params(self, index: int) -> list[tuple[str, str]]:
        return list(self.seen[index].url.params.multi_items())


def customer(i: int) -> dict[str, object]:
    return {
        "id": i,
        "name": f"Customer {i}",
        "status": "Active",
        "phone_number": "",
        "tax_number": "",
    }


def pages_of(rows: list[dict], *, root: str = "customers"):
    """A server that pages properly and answers 404 "found nothing" past the end."""

    def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", 1))
        per_page = int(request.url.params.get("per_page", 100))
        chunk = rows[(page - 1) * per_page : page * per_page]
        if not chunk:
            return httpx.Response(
                404, json="We could not retrieve your customers, we found nothing."
            )
        return httpx.Response(200, json={root: chunk})

    return respond


def test_every_request_carries_the_key_json_headers_and_english_locale() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"inventories": []}))

    recorder.reader().list_warehouses()

    headers = recorder.seen[0].headers
    assert headers["API-KEY"] == API_KEY
    assert headers["Accept"] == "application/json"
    assert headers["Content-Type"] == "application/json"
    assert headers["LOCALE"] == "en"
    assert str(recorder.seen[0].url).startswith("https://api.qoyod.test/2.0/inventories?")


def test_each_request_has_explicit_timeouts() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"taxes": []}))

    recorder.reader().list_taxes()
    recorder.reader(deadline=2.0).list_taxes()

    assert recorder.seen[0].extensions["timeout"] == {
        "connect": 5.0,
        "read": 15.0,
        "write": 10.0,
        "pool": 5.0,
    }
    # A short deadline clips every phase to what is left of it.
    clipped = recorder.seen[1].extensions["timeout"]
    assert clipped["connect"] <= 2.0 and clipped["read"] <= 2.0
    assert clipped["read"] > 1.9


def test_event_hooks_see_every_request() -> None:
    seen: list[str] = []
    recorder = Recorder(lambda r: httpx.Response(200, json={"taxes": []}))
    reader = recorder.reader(event_hooks={"request": [lambda request: seen.append(request.method)]})

    reader.list_taxes()
    reader.list_taxes()

    assert seen == ["GET", "GET"]


def test_lists_walk_every_page_until_a_short_one() -> None:
    recorder = Recorder(pages_of([customer(i) for i in range(1, 251)]))

    customers = recorder.reader().list_customers()

    assert [c.id for c in customers] == list(range(1, 251))
    assert len(recorder.seen) == 3
    assert recorder.params(0) == [("q[s]", "id asc"), ("page", "1"), ("per_page", "100")]
    assert recorder.params(2) == [("q[s]", "id asc"), ("page", "3"), ("per_page", "100")]


def test_a_found_nothing_404_after_a_full_page_ends_the_walk() -> None:
    recorder = Recorder(pages_of([customer(i) for i in range(1, 101)]))

    assert len(recorder.reader().list_customers()) == 100
    assert len(recorder.seen) == 2


def test_an_empty_list_is_a_found_nothing_404() -> None:
    recorder = Recorder(pages_of([]))

    assert recorder.reader().list_customers() == []
    assert len(recorder.seen) == 1


def test_an_endpoint_that_ignores_page_is_read_once() -> None:
    rows = [customer(i) for i in range(1, 101)]
    recorder = Recorder(lambda r: httpx.Response(200, json={"customers": rows}))

    customers = recorder.reader().list_customers()

    assert len(customers) == 100
    # Page 2 repeated page 1's first id: the walk stops there.
    assert len(recorder.seen) == 2


def test_an_endpoint_that_ignores_per_page_is_read_once() -> None:
    rows = [customer(i) for i in range(1, 151)]
    recorder = Recorder(lambda r: httpx.Response(200, json={"customers": rows}))

    assert len(recorder.reader().list_customers()) == 150
    assert len(recorder.seen) == 1


def test_a_pagination_object_ends_the_walk_on_the_last_page() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        rows = [{"id": (page - 1) * 100 + i, "sku": f"S{i}"} for i in range(1, 101)]
        meta = {
            "count": 100,
            "total": 200,
            "perPage": "100",
            "currentPage": str(page),
            "totalPages": 2,
        }
        return httpx.Response(200, json={"products": rows, "pagination": meta})

    recorder = Recorder(respond)

    assert len(recorder.reader().list_products()) == 200
    assert len(recorder.seen) == 2


def test_rows_repeated_across_pages_are_returned_once() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        # A row shifted from page 1 onto page 2 (say, one was added meanwhile).
        ids = range(1, 101) if page == 1 else (101, 50, 102)
        return httpx.Response(200, json={"customers": [customer(i) for i in ids]})

    recorder = Recorder(respond)

    assert [c.id for c in recorder.reader().list_customers()] == list(range(1, 103))


def test_invoices_by_ids_take_one_request_per_hundred_ids() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        ids = [int(v) for v in request.url.params.get_list("q[id_in][]")]
        return httpx.Response(
            200, json={"invoices": [{**INVOICE_JSON, "id": i} for i in ids if i % 7]}
        )

    recorder = Recorder(respond)
    wanted = list(range(250, 0, -1))

    invoices = recorder.reader().list_invoices_by_ids([*wanted, 250])

    assert [inv.id for inv in invoices] == [i for i in wanted if i % 7]
    assert len(recorder.seen) == 3
    assert [len(r.url.params.get_list("q[id_in][]")) for r in recorder.seen] == [100, 100, 50]
    assert recorder.seen[0].url.params["per_page"] == str(PAGE_SIZE)


def test_invoices_by_ids_fall_back_to_one_by_one_when_the_filter_is_ignored() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/2.0/invoices":
            return httpx.Response(
                200, json={"invoices": [{**INVOICE_JSON, "id": i} for i in (1, 2, 3)]}
            )
        invoice_id = int(request.url.path.rsplit("/", 1)[1])
        if invoice_id == 99:
            return httpx.Response(404, json="We found nothing")
        return httpx.Response(200, json={"invoice": {**INVOICE_JSON, "id": invoice_id}})

    recorder = Recorder(respond)

    invoices = recorder.reader().list_invoices_by_ids([2, 50, 99])

    assert [inv.id for inv in invoices] == [2, 50]
    assert [r.url.path for r in recorder.seen] == [
        "/2.0/invoices",
        "/2.0/invoices/50",
        "/2.0/invoices/99",
    ]


def test_find_by_reference_trusts_only_an_exact_match() -> None:
    near = {**INVOICE_JSON, "id": 5, "reference": "INV-0001230"}
    recorder = Recorder(lambda r: httpx.Response(200, json={"invoices": [near]}))

    assert recorder.reader().find_invoice_by_reference("INV-000123") is None
    assert recorder.params(0)[0] == ("q[reference_eq]", "INV-000123")


def test_customer_lookups_send_their_filters_and_match_locally() -> None:
    rows = [
        {**customer(1), "tax_number": "300000000000003", "phone_number": "0501234567"},
        {**customer(2), "tax_number": "310000000000003", "phone_number": "+966 50 123 4567"},
        {**customer(3), "name": "Al Noor Trading", "phone_number": "00966509999999"},
    ]
    recorder = Recorder(lambda r: httpx.Response(200, json={"customers": rows}))
    reader = recorder.reader()

    by_vat = reader.find_customers_by_tax_number("300000000000003")
    by_phone = reader.find_customers_by_phone("+966501234567")
    by_name = reader.search_customers("noor")

    assert [c.id for c in by_vat] == [1]
    assert [c.id for c in by_phone] == [1, 2]
    assert [c.id for c in by_name] == [3]
    assert recorder.params(0)[0] == ("q[tax_number_eq]", "300000000000003")
    assert recorder.params(1)[0] == ("q[primary_contact_number_cont]", "501234567")
    assert recorder.params(2)[0] == ("q[contact_name_cont]", "noor")


def test_products_by_sku_ask_for_a_hundred_skus_at_a_time() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        skus = request.url.params.get_list("q[sku_in][]")
        rows = [{"id": i, "sku": sku} for i, sku in enumerate(skus, 1) if sku != "GONE"]
        meta = {
            "count": len(rows),
            "total": len(rows),
            "perPage": "100",
            "currentPage": "1",
            "totalPages": 1,
        }
        return httpx.Response(200, json={"products": rows, "pagination": meta})

    recorder = Recorder(respond)
    skus = [f"P{i}" for i in range(150)] + ["GONE"]

    found = recorder.reader().find_products_by_skus(skus)

    assert sorted(found) == sorted(skus[:-1])
    assert len(recorder.seen) == 2
    assert recorder.reader().find_product_by_sku("GONE") is None


def test_journal_entries_are_found_by_exact_description_and_date() -> None:
    def entry(i: int, description: str, day: str) -> dict[str, object]:
        return {
            "id": i,
            "date": day,
            "description": description,
            "total_debit": "1.0",
            "total_credit": "1.0",
        }

    rows = [
        entry(1, "Expense 42", "2025-03-31"),
        entry(2, "Expense 420", "2025-03-31"),
        entry(3, "Expense 42", "2025-04-01"),
    ]
    recorder = Recorder(lambda r: httpx.Response(200, json={"journal_entries": rows}))

    from datetime import date

    found = recorder.reader().find_journal_entries(description="Expense 42", on=date(2025, 3, 31))

    assert [e.id for e in found] == [1]
    assert recorder.params(0)[:5] == [
        ("q[description_cont]", "Expense 42"),
        ("q[journal_entry_date_gteq]", "2025-03-31"),
        ("q[journal_entry_date_lteq]", "2025-03-31"),
        ("q[date_gteq]", "2025-03-31"),
        ("q[date_lteq]", "2025-03-31"),
    ]


def test_writer_payloads_for_customers_and_products_are_exact() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/2.0/customers"):
            return httpx.Response(201, json={"contact": customer(101)})
        return httpx.Response(201, json={"product": {"id": 201, "sku": "X"}})

    recorder = Recorder(respond)
    writer = recorder.writer()
    address = Address(
        street="King Fahd Rd", city="Riyadh", zip_code="12345", country="SA", building_number="1234"
    )

    writer.create_customer(
        name="Ali", phone_number="0501234567", tax_number="300000000000003", billing_address=address
    )
    writer.update_customer(101, email="ali@example.com")
    writer.create_service_product(
        sku="SVC-1",
        name_ar="تغيير زيت",
        name_en="Oil change",
        selling_price=Decimal("120.00"),
        tax_id=1,
        unit_id=2,
        category_id=1,
        sales_account_id=17,
    )
    writer.create_stock_product(
        sku="P-9",
        name_ar="فلتر",
        name_en="Filter",
        selling_price=Decimal("40"),
        buying_price=Decimal("25.50"),
        tax_id=1,
        unit_id=1,
        category_id=2,
        cogs_account_id=12,
        sales_account_id=17,
    )

    bodies = [json.loads(r.content) for r in recorder.seen]
    assert [(r.method, r.url.path) for r in recorder.seen] == [
        ("POST", "/2.0/customers"),
        ("PUT", "/2.0/customers/101"),
        ("POST", "/2.0/products"),
        ("POST", "/2.0/products"),
    ]
    assert bodies[0] == {
        "contact": {
            "name": "Ali",
            "status": "Active",
            "phone_number": "0501234567",
            "tax_number": "300000000000003",
            "billing_address": {
                "billing_address": "King Fahd Rd",
                "billing_city": "Riyadh",
                "billing_state": "",
                "billing_zip": "12345",
                "billing_country": "SA",
                "building_number": "1234",
            },
        }
    }
    assert bodies[1] == {"contact": {"email": "ali@example.com"}}
    assert bodies[2] == {
        "product": {
            "sku": "SVC-1",
            "name_ar": "تغيير زيت",
            "name_en": "Oil change",
            "description": "",
            "selling_price": "120.00",
            "tax_id": 1,
            "product_unit_type_id": 2,
            "category_id": 1,
            "sale_item": True,
            "type": "Service",
            "track_quantity": 0,
            "purchase_item": False,
            "buying_price": "0",
            "sales_account_id": 17,
        }
    }
    assert bodies[3] == {
        "product": {
            "sku": "P-9",
            "name_ar": "فلتر",
            "name_en": "Filter",
            "description": "",
            "selling_price": "40",
            "tax_id": 1,
            "product_unit_type_id": 1,
            "category_id": 2,
            "sale_item": True,
            "type": "Product",
            "track_quantity": 1,
            "purchase_item": True,
            "buying_price": "25.50",
            "sales_account_id": 17,
            "cogs_account_id": 12,
        }
    }
    # The key was trimmed, the base URL's trailing slash dropped.
    assert recorder.seen[0].headers["API-KEY"] == API_KEY
    assert str(recorder.seen[0].url) == "https://api.qoyod.test/2.0/customers"


def test_a_draft_invoice_is_posted_once_and_parsed() -> None:
    recorder = Recorder(lambda r: httpx.Response(201, json={"invoice": INVOICE_JSON}))

    invoice = recorder.writer().create_draft_invoice(DRAFT)

    assert invoice.id == 1085
    assert invoice.status == "Draft"
    assert json.loads(recorder.seen[0].content) == DRAFT.to_json()
    assert recorder.seen[0].extensions["timeout"]["read"] == 15.0


@pytest.mark.parametrize("base_url", ["ftp://api.qoyod.com/2.0", "api.qoyod.com/2.0"])
def test_a_base_url_that_is_not_http_is_refused(base_url: str) -> None:
    with pytest.raises(ValueError):
        QoyodReader(base_url=base_url, api_key=API_KEY)


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError):
        QoyodWriter(base_url=BASE_URL, api_key="   ")
