"""The sandbox speaks Qoyod's contract (qoyod-api.md §14), over raw HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from qoyod_sync.errors import QoyodMaybeSaved
from qoyod_sync.sandbox import SandboxServer
from qoyod_sync.sandbox.chart import DEFAULT_CHART
from tests.qoyod_fixtures import PART_ACCOUNTS, SERVICE_ACCOUNTS, SandboxHandle

KEY = "sandbox-raw-key-0042"
LINES_HINT = (
    'invalid line_items json body - expecting {"invoice" : { ... line_items: [ {...}, ... ] }}'
)


class Api:
    """A bare HTTP client on the sandbox: exactly what goes over the wire, no client logic."""

    def __init__(self, sandbox: SandboxHandle, key: str = KEY) -> None:
        self.sandbox = sandbox
        # The key's company is opened first: the sandbox, like Qoyod, refuses unknown keys.
        sandbox.company(key)
        self.http = httpx.Client(base_url=sandbox.root_url, headers={"API-KEY": key}, timeout=5)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get("/2.0" + path, params=params)

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.http.post("/2.0" + path, json=body)

    def put(self, path: str, body: Any) -> httpx.Response:
        return self.http.put("/2.0" + path, json=body)

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete("/2.0" + path)

    def control(self, path: str, body: Any = None) -> httpx.Response:
        return self.http.post("/_sandbox" + path, json=body or {})

    def customer(self, name: str = "Ali", **fields: Any) -> int:
        return self.post("/customers", {"contact": {"name": name, **fields}}).json()["contact"][
            "id"
        ]

    def product(
        self, sku: str, *, tracked: bool = False, tax_id: int = 1, reason: int | None = None
    ) -> int:
        body = {
            "name": f"Product {sku}", "sku": sku, "tax_id": tax_id, "track_quantity": int(tracked),
            "selling_price": "10", "buying_price": "5",
            **(PART_ACCOUNTS if tracked else SERVICE_ACCOUNTS),
            **({"special_tax_reason_id": reason} if reason is not None else {}),
        }  # fmt: skip
        return self.post("/products", {"product": body}).json()["product"]["id"]

    def invoice(
        self, contact_id: int, lines: list[dict[str, Any]], **header: Any
    ) -> httpx.Response:
        # The fields a ZATCA Phase-2 company needs to approve (Company.zatca_phase2).
        body = {
            "contact_id": contact_id, "due_date": "2025-03-09", "payment_method": 10,
            "supply_date": "2025-03-02", "line_items": lines, **header,
        }  # fmt: skip
        return self.post("/invoices", {"invoice": body})


@pytest.fixture
def api(qoyod_sandbox: SandboxHandle) -> Iterator[Api]:
    client = Api(qoyod_sandbox)
    yield client
    client.http.close()


# ---- authentication and companies -----------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"API-KEY": ""}])
def test_a_missing_or_empty_key_is_401(qoyod_sandbox: SandboxHandle, headers: dict) -> None:
    response = httpx.get(qoyod_sandbox.base_url + "/inventories", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized - Invalid API key"}


def test_each_key_has_its_own_company(qoyod_sandbox: SandboxHandle, api: Api) -> None:
    other = Api(qoyod_sandbox, key="another-key-9999")
    api.customer("Only in the first company")

    assert other.get("/customers").status_code == 404
    assert len(api.get("/customers").json()["customers"]) == 1
    assert [c.key_hint for c in qoyod_sandbox.state.companies()] == ["…0042", "…9999"]
    other.http.close()


def test_an_unknown_key_is_refused_with_qoyods_401_and_opens_nothing(
    qoyod_sandbox: SandboxHandle, api: Api
) -> None:
    unknown = {"API-KEY": "never-opened-key-7777"}
    read = httpx.get(qoyod_sandbox.base_url + "/taxes", headers=unknown)
    write = httpx.post(
        qoyod_sandbox.base_url + "/customers", json={"contact": {"name": "Ali"}}, headers=unknown
    )

    assert [(r.status_code, r.json()) for r in (read, write)] == [
        (401, {"error": "Unauthorized - Invalid API key"}),
        (401, {"error": "Unauthorized - Invalid API key"}),
    ]
    assert [(c.key_hint, c.customers) for c in qoyod_sandbox.state.companies()] == [("…0042", {})]


def test_a_key_opened_through_the_control_endpoint_is_served(
    qoyod_sandbox: SandboxHandle,
) -> None:
    key = {"API-KEY": "opened-by-control-5555"}
    before = httpx.get(qoyod_sandbox.base_url + "/taxes", headers=key)
    opened = httpx.post(qoyod_sandbox.root_url + "/_sandbox/keys", headers=key)
    after = httpx.get(qoyod_sandbox.base_url + "/taxes", headers=key)

    assert before.status_code == 401
    assert opened.json() == {"company": 1, "key_hint": "…5555"}
    assert after.status_code == 200


def test_accept_any_key_opens_a_company_for_a_new_key() -> None:
    sandbox = SandboxServer(accept_any_key=True).start()
    try:
        response = httpx.post(
            sandbox.base_url + "/customers",
            json={"contact": {"name": "Ali"}},
            headers={"API-KEY": "any-demo-key-3333"},
        )
    finally:
        sandbox.stop()

    assert response.status_code == 201
    assert [
        (c.key_hint, [x.name for x in c.customers.values()]) for c in sandbox.state.companies()
    ] == [("…3333", ["Ali"])]


def test_the_key_header_name_is_case_insensitive(qoyod_sandbox: SandboxHandle) -> None:
    qoyod_sandbox.state.allow(KEY)
    response = httpx.get(qoyod_sandbox.base_url + "/taxes", headers={"api-key": KEY})

    assert response.status_code == 200


# ---- lists --------------------------------------------------------------------------------


def test_empty_lists_answer_as_qoyod_does(api: Api) -> None:
    assert (api.get("/customers").status_code, api.get("/customers").json()) == (
        404,
        "We could not retrieve your customers, we found nothing.",
    )
    assert api.get("/invoices").json() == "We could not retrieve your Invoices, we found nothing."
    assert api.get("/products").json() == "We found nothing"
    assert api.get("/journal_entries").status_code == 404
    assert api.get("/invoice_payments").json() == {
        "receipts": [],
        "pagination": {"count": 0, "total": 0, "perPage": 100, "currentPage": 1, "totalPages": 1},
    }


def test_lists_page_as_qoyod_does(qoyod_sandbox: SandboxHandle, api: Api) -> None:
    company = qoyod_sandbox.company(KEY)
    for i in range(130):
        company.create_customer({"name": f"C{i}"})
        company.create_product({
            "name": f"Product {i}", "sku": f"S{i}", "tax_id": 1, "selling_price": "10",
            "buying_price": "5", **SERVICE_ACCOUNTS,
        })  # fmt: skip

    page2 = api.get("/customers", page=2).json()["customers"]
    products = api.get("/products", page=2, per_page=50).json()
    past_the_end = api.get("/customers", page=3)
    accounts_unpaged = api.get("/accounts", per_page=5).json()["accounts"]
    accounts_paged = api.get("/accounts", per_page=5, page=2).json()["accounts"]

    assert [c["name"] for c in page2] == [f"C{i}" for i in range(100, 130)]
    assert products["pagination"] == {
        "count": 50,
        "total": 130,
        "perPage": "50",
        "currentPage": "2",
        "totalPages": 3,
    }
    assert (past_the_end.status_code, past_the_end.json()) == (
        404,
        "We could not retrieve your customers, we found nothing.",
    )
    assert len(accounts_unpaged) == len(DEFAULT_CHART) == 28
    assert [a["id"] for a in accounts_paged] == [9, 10, 11, 12, 13]


def test_ransack_filters_and_sorting(qoyod_sandbox: SandboxHandle, api: Api) -> None:
    for name in ("Al Noor", "Noor Garage", "Zed"):
        api.customer(name)
    ids = [c["id"] for c in api.get("/customers").json()["customers"]]

    def names(**params: Any) -> list[str]:
        response = api.http.get("/2.0/customers", params=params)
        return (
            [c["name"] for c in response.json()["customers"]] if response.status_code == 200 else []
        )

    assert names(**{"q[contact_name_cont]": "noor"}) == ["Al Noor", "Noor Garage"]
    assert names(**{"q[contact_name_eq]": "Zed"}) == ["Zed"]
    assert names(**{"q[contact_name_start]": "noor"}) == ["Noor Garage"]
    assert names(**{"q[id_gt]": ids[0]}) == ["Noor Garage", "Zed"]
    assert names(**{"q[id_in][]": [ids[0], ids[2]]}) == ["Al Noor", "Zed"]
    assert names(**{"q[s]": "contact_name desc"}) == ["Zed", "Noor Garage", "Al Noor"]
    # Unknown filters are ignored, as Qoyod ignores them.
    assert names(**{"q[favourite_colour_eq]": "blue"}) == ["Al Noor", "Noor Garage", "Zed"]

    qoyod_sandbox.server.strict_filters = True
    strict = api.get("/customers", **{"q[favourite_colour_eq]": "blue"})
    assert (strict.status_code, strict.json()) == (
        400,
        {"error": "Sandbox strict mode: unknown filter favourite_colour_eq"},
    )


def test_single_records_have_qoyods_404_bodies(api: Api) -> None:
    assert api.get("/customers/1").json() == "Customer Not Found"
    assert api.get("/products/1").json() == "Product not found"
    assert api.get("/invoices/1").json() == "We found nothing"
    assert api.get("/inventories/9").json() == {"error": "Inventory not found"}
    assert api.get("/categories/999").json() == {"invoice": "category with id: 999 is not found"}
    assert api.get("/journal_entries/1").json() == {
        "message": "Invalid journal entry ID. Please provide a valid journal entry ID."
    }
    assert api.get("/nothing-here").status_code == 404


# ---- invoices -------------------------------------------------------------------------------


def test_invoice_totals_are_computed_as_qoyod_prints_them(api: Api) -> None:
    contact = api.customer()
    part, service = api.product("PART-1"), api.product("SVC-1")

    response = api.invoice(
        contact,
        [
            {"product_id": part, "quantity": 2, "unit_price": "35", "tax_percent": 15},
            {"product_id": service, "quantity": "1", "unit_price": 150},
        ],
        reference="SHOP-10045",
        inventory_id=1,
    )

    invoice = response.json()["invoice"]
    assert response.status_code == 201
    assert (invoice["total"], invoice["paid_amount"], invoice["due_amount"]) == (
        "253.0",
        "0.0",
        "253.0",
    )
    assert (invoice["status"], invoice["reference"], invoice["qrcode_string"]) == (
        "Draft",
        "SHOP-10045",
        "",
    )
    first = invoice["line_items"][0]
    assert {
        k: first[k]
        for k in ("quantity", "unit_price", "tax_percent", "line_total", "unrounded_vat_value")
    } == {
        "quantity": "2.0",
        "unit_price": "35.0",
        "tax_percent": "15.0",
        "line_total": "80.5",
        "unrounded_vat_value": "10.5",
    }
    # The second line took the product's own tax (15%).
    assert invoice["line_items"][1]["line_total"] == "172.5"


def test_line_vat_is_rounded_half_up_per_line(api: Api) -> None:
    contact, product = api.customer(), api.product("CHEAP")
    lines = [{"product_id": product, "quantity": 1, "unit_price": "0.10", "tax_percent": 15}] * 4

    invoice = api.invoice(contact, lines).json()["invoice"]

    # 0.015 VAT rounds up to 0.02 on each line: 4 × 0.12.
    assert [ln["line_total"] for ln in invoice["line_items"]] == ["0.12"] * 4
    assert invoice["total"] == "0.48"


def test_discounts_and_inclusive_prices(api: Api) -> None:
    contact, product = api.customer(), api.product("P")
    # A 0% line goes through a zero-rated product and its reason (a given 0% is refused).
    exported = api.product("EXP", tax_id=2, reason=1)

    invoice = api.invoice(
        contact,
        [
            {
                "product_id": product,
                "quantity": 2,
                "unit_price": 50,
                "discount": 10,
                "discount_type": "percentage",
            },
            {
                "product_id": product,
                "quantity": 1,
                "unit_price": 100,
                "discount": "5",
                "discount_type": "amount",
            },
            {"product_id": product, "quantity": 1, "unit_price": "115", "is_inclusive": True},
            {"product_id": exported, "quantity": 1, "unit_price": 100},
        ],
    ).json()["invoice"]

    lines = invoice["line_items"]
    assert [(ln["discount_amount"], ln["discount_percent"], ln["line_total"]) for ln in lines] == [
        ("10.0", "10.0", "103.5"),
        ("5.0", "5.0", "109.25"),
        ("0.0", "0.0", "115.0"),
        ("0.0", "0.0", "100.0"),
    ]
    assert (
        lines[2]["inclusive_unit_price"],
        lines[2]["unit_price"],
        lines[2]["unrounded_vat_value"],
    ) == (
        "115.0",
        "100.0",
        "15.0",
    )
    assert invoice["total"] == "427.75"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"due_date": "2025-03-09", "line_items": [{}]}, {"errors": ["contact id is missing"]}),
        (
            {"contact_id": "abc", "due_date": "2025-03-09", "line_items": []},
            {"errors": ["contact id is missing"]},
        ),
        (
            {"contact_id": 99999, "due_date": "2025-03-09"},
            {"errors": ["contact 99999 does not exist"]},
        ),
        (
            {"contact_id": "CONTACT"},
            {"errors": [LINES_HINT]},
        ),
        (
            {
                "contact_id": "CONTACT",
                "line_items": [{"product_id": "PRODUCT", "quantity": 0, "unit_price": -1}],
            },
            {
                "errors": {
                    "due_date": ["can't be blank"],
                    "line_items.quantity": ["must be greater than 0"],
                    "line_items.unit_price": ["must be greater than or equal to 0"],
                }
            },
        ),
        (
            {
                "contact_id": "CONTACT",
                "due_date": "2025-03-09",
                "status": "Paid",
                "line_items": [
                    {"product_id": "PRODUCT", "quantity": 1, "unit_price": 1, "tax_percent": 12}
                ],
            },
            {
                "errors": {
                    "status": ["is not included in the list"],
                    "line_items.tax_percent": ["is not one of the company's tax rates"],
                }
            },
        ),
    ],
)
def test_invalid_invoices_get_qoyods_422_shapes(api: Api, body: dict, expected: dict) -> None:
    contact, product = api.customer(), api.product("P")
    body = {k: contact if v == "CONTACT" else v for k, v in body.items()}
    for line in body.get("line_items", []):
        if line.get("product_id") == "PRODUCT":
            line["product_id"] = product

    response = api.post("/invoices", {"invoice": body})

    assert (response.status_code, response.json()) == (422, expected)


def test_a_missing_envelope_is_a_400(api: Api) -> None:
    response = api.post("/invoices", {"contact_id": 1})

    assert (response.status_code, response.json()) == (
        400,
        {"error": "param is missing or the value is empty: invoice"},
    )


def test_approval_by_put_assigns_a_reference_and_locks_the_invoice(api: Api) -> None:
    contact, product = api.customer(), api.product("P")
    first = api.invoice(contact, [{"product_id": product, "quantity": 1, "unit_price": 10}]).json()[
        "invoice"
    ]
    api.put(
        f"/invoices/{first['id']}",
        {"invoice": {"line_items": [{"product_id": product, "quantity": 1, "unit_price": 5}]}},
    )

    approved = api.put(f"/invoices/{first['id']}", {"invoice": {"status": "Approved"}}).json()[
        "invoice"
    ]
    again = api.put(f"/invoices/{first['id']}", {"invoice": {"notes": "late"}})

    assert first["reference"] == ""
    assert (approved["status"], approved["reference"], approved["total"]) == (
        "Approved",
        "INV1",
        "17.25",
    )
    assert len(approved["line_items"]) == 2
    assert approved["qrcode_string"] != ""
    assert (again.status_code, again.json()) == (422, {"errors": "Not update other than draft"})


def test_tracked_stock_limits_approval(api: Api) -> None:
    contact, part = api.customer(), api.product("PART", tracked=True)
    api.control(f"/products/{part}/stock", {"quantity": "3"})
    lines = [{"product_id": part, "quantity": 2, "unit_price": 10}]

    approved = api.invoice(contact, lines, status="Approved").json()["invoice"]
    kept_draft = api.invoice(contact, lines, status="Approved", draft_if_out_of_stock=True)
    short = api.invoice(contact, lines, status="Approved")
    approve_later = api.control(f"/invoices/{kept_draft.json()['invoice']['id']}/approve")

    shortfall = {
        "errors": {
            "base": ["Not enough quantity of PART in Main Workshop: 1.0 available, 2.0 needed"]
        }
    }
    assert approved["status"] == "Approved"
    assert kept_draft.json()["invoice"]["status"] == "Draft"
    assert (short.status_code, short.json()) == (422, shortfall)
    assert (approve_later.status_code, approve_later.json()) == (422, shortfall)
    stock = api.get(f"/products/{part}").json()["product"]["inventories"]
    assert [(row["id"], row["stock"]) for row in stock] == [(1, "1.0"), (2, "0.0")]


def test_delete_only_drafts(api: Api) -> None:
    contact, product = api.customer(), api.product("P")
    draft = api.invoice(contact, [{"product_id": product, "quantity": 1, "unit_price": 1}]).json()[
        "invoice"
    ]
    approved = api.invoice(
        contact, [{"product_id": product, "quantity": 1, "unit_price": 1}], status="Approved"
    ).json()["invoice"]

    deleted = api.delete(f"/invoices/{draft['id']}")
    refused = api.delete(f"/invoices/{approved['id']}")

    assert (deleted.status_code, deleted.json()) == (200, "Invoice destroyed successfully")
    assert (refused.status_code, refused.json()) == (
        422,
        {"errors": "Only draft invoices can be deleted"},
    )
    assert api.get(f"/invoices/{draft['id']}").status_code == 404


# ---- payments and journal entries -----------------------------------------------------------


def test_invoice_payments_follow_qoyods_rules(api: Api) -> None:
    contact, product = api.customer(), api.product("P")
    invoice = api.invoice(
        contact, [{"product_id": product, "quantity": 1, "unit_price": 220}]
    ).json()["invoice"]
    pay = {"invoice_id": invoice["id"], "account_id": 8, "amount": "200.00", "date": "2025-03-03"}

    draft = api.post("/invoice_payments", {"invoice_payment": pay})
    api.put(f"/invoices/{invoice['id']}", {"invoice": {"status": "Approved"}})
    missing = api.post(
        "/invoice_payments", {"invoice_payment": {"invoice_id": invoice["id"], "amount": 1}}
    )
    receipt = api.post("/invoice_payments", {"invoice_payment": pay})
    partly = api.get(f"/invoices/{invoice['id']}").json()["invoice"]
    over = api.post("/invoice_payments", {"invoice_payment": {**pay, "amount": "53.01"}})
    api.post(
        "/invoice_payments", {"invoice_payment": {**pay, "amount": "53.0", "reference": "PAY-2"}}
    )
    paid = api.get(f"/invoices/{invoice['id']}").json()["invoice"]

    assert (draft.status_code, draft.json()) == (422, {"errors": "Cannot pay Draft invoice"})
    assert (missing.status_code, missing.json()) == (
        422,
        {
            "error": "Invalid resource",
            "messages": {"account": ["Can't be blank"], "date": ["Can't be blank"]},
        },
    )
    assert receipt.status_code == 200
    body = receipt.json()["receipt"]
    assert (body["amount"], body["kind"], body["contact_id"], body["reference"]) == (
        "200.0",
        "received",
        contact,
        "PYT1",
    )
    assert body["allocations"][0]["allocatee_id"] == invoice["id"]
    assert (partly["status"], partly["paid_amount"], partly["due_amount"]) == (
        "Partially Paid",
        "200.0",
        "53.0",
    )
    assert (over.status_code, over.json()) == (
        422,
        {"errors": {"amount": ["exceeds the invoice's due amount (53.0)"]}},
    )
    assert (paid["status"], paid["paid_amount"], paid["due_amount"], paid["total"]) == (
        "Paid",
        "253.0",
        "0.0",
        "253.0",
    )
    assert [p["amount"] for p in paid["payments"]] == ["200.0", "53.0"]


def test_journal_entries_must_balance_and_name_real_accounts(api: Api) -> None:
    def entry(debit: str, credit: str, account: int = 22) -> httpx.Response:
        return api.post(
            "/journal_entries",
            {
                "journal_entry": {
                    "date": "2025-03-31",
                    "description": "Fees",
                    "debit_amounts": [{"account_id": account, "amount": debit}],
                    "credit_amounts": [{"account_id": 8, "amount": credit}],
                }
            },
        )

    unbalanced = entry("57.50", "57.49")
    unknown = entry("1", "1", account=999)
    receivable = entry("1", "1", account=9)
    created = entry("57.50", "57.5")

    assert (unbalanced.status_code, unbalanced.json()) == (
        422,
        {"errors": {"base": ["Total debit and credit amounts must be equal"]}},
    )
    assert unknown.json() == {"errors": "Plutus::Account id 999 is not valid"}
    assert receivable.json() == {
        "errors": {"contact_id": ["is required on the receivables and payables accounts"]}
    }
    assert created.status_code == 200
    journal = created.json()["journal_entry"]
    assert (journal["total_debit"], journal["total_credit"], journal["date"]) == (
        "57.5",
        "57.5",
        "2025-03-31",
    )
    found = api.get(
        "/journal_entries",
        **{"q[journal_entry_date_gteq]": "2025-03-31", "q[description_cont]": "fee"},
    )
    assert [j["id"] for j in found.json()["journal_entries"]] == [journal["id"]]


def test_batches_are_atomic(qoyod_sandbox: SandboxHandle, api: Api) -> None:
    customers = api.post("/customers", {"contact": [{"name": "A"}, {"name": "B"}]})
    products = api.post(
        "/products",
        {
            "product": [
                {"name": "X", "sku": "X", "tax_id": 1},
                {"name": "Y", "sku": "X", "tax_id": 1},
            ]
        },
    )

    assert customers.status_code == 200
    assert [c["name"] for c in customers.json()["contacts"]] == ["A", "B"]
    assert products.status_code == 422
    assert qoyod_sandbox.company(KEY).products == {}


# ---- faults ---------------------------------------------------------------------------------


def test_added_latency_slows_every_api_answer(qoyod_sandbox: SandboxHandle, api: Api) -> None:
    api.get("/taxes")
    qoyod_sandbox.faults.set_latency(60)

    started = time.monotonic()
    api.get("/taxes")

    assert time.monotonic() - started >= 0.06


def test_fail_next_answers_without_processing_then_recovers(
    qoyod_sandbox: SandboxHandle, api: Api
) -> None:
    qoyod_sandbox.faults.fail_next(2, status=503, method="POST", path="/customers", retry_after=7)

    first = api.post("/customers", {"contact": {"name": "A"}})
    second = api.post("/customers", {"contact": {"name": "B"}})
    third = api.post("/customers", {"contact": {"name": "C"}})

    assert (first.status_code, first.json(), first.headers["Retry-After"]) == (
        503,
        {"status": 503, "error": "Service Unavailable"},
        "7",
    )
    assert second.status_code == 503
    assert third.status_code == 201
    assert [c.name for c in qoyod_sandbox.company(KEY).customers.values()] == ["C"]


def test_rate_limit_answers_429_with_and_without_retry_after(
    qoyod_sandbox: SandboxHandle, api: Api
) -> None:
    qoyod_sandbox.faults.rate_limit(2, retry_after=5)
    answers = [api.get("/taxes") for _ in range(3)]
    qoyod_sandbox.faults.rate_limit(0, retry_after=None)
    bare = api.get("/taxes")

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "5"
    assert answers[2].json() == {"error": "Too many requests"}
    assert (bare.status_code, "Retry-After" in bare.headers) == (429, False)


def test_faults_are_set_over_the_control_endpoint(qoyod_sandbox: SandboxHandle, api: Api) -> None:
    state = api.control(
        "/faults",
        {
            "latency_ms": 5,
            "fail_next": {"count": 1, "status": 502, "method": "GET"},
            "rate_limit": {"per_minute": 100, "retry_after": 3},
        },
    )

    assert state.json() == {
        "latency_ms": 5.0,
        "rules": [
            {
                "remaining": 1,
                "action": "status",
                "status": 502,
                "commit": False,
                "method": "GET",
                "path": None,
            }
        ],
        "holds": [],
        "rate_limit": {"per_minute": 100, "retry_after": 3},
        "fail_deep_pages": None,
    }
    # Faults touch only the API: the control endpoints keep answering.
    assert api.http.get("/_sandbox/faults").status_code == 200
    assert api.get("/taxes").status_code == 502
    assert api.get("/taxes").status_code == 200
    cleared = api.control("/faults", {"clear": True, "drop_next": {"count": 1, "commit": False}})
    assert cleared.json()["rules"][0]["action"] == "drop"
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/taxes")


def test_a_held_request_is_processed_and_answered_only_once_released(
    qoyod_sandbox: SandboxHandle, api: Api
) -> None:
    held = qoyod_sandbox.faults.hold_next(method="POST", path="/customers")
    answers: list[httpx.Response] = []
    sender = threading.Thread(
        target=lambda: answers.append(api.post("/customers", {"contact": {"name": "Held"}}))
    )
    sender.start()
    held.wait_received()

    # Received and recorded, not processed or answered; other requests pass.
    assert (answers, qoyod_sandbox.company(KEY).customers) == ([], {})
    assert qoyod_sandbox.requests.find(method="POST")[0].status is None
    assert api.get("/taxes").status_code == 200
    held.release()
    held.wait_finished()
    sender.join(timeout=30)

    assert [a.status_code for a in answers] == [201]
    assert [c.name for c in qoyod_sandbox.company(KEY).customers.values()] == ["Held"]
    assert api.post("/customers", {"contact": {"name": "Next"}}).status_code == 201
    assert held.received == 1


def test_clearing_the_faults_releases_held_requests(qoyod_sandbox: SandboxHandle, api: Api) -> None:
    held = qoyod_sandbox.faults.hold_next(method="GET")
    answers: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: answers.append(api.get("/taxes")))
    sender.start()
    held.wait_received()

    qoyod_sandbox.faults.clear()
    held.wait_finished()
    sender.join(timeout=30)

    assert held.released and [a.status_code for a in answers] == [200]


def test_holds_are_set_and_released_over_the_control_endpoint(
    qoyod_sandbox: SandboxHandle, api: Api
) -> None:
    state = api.control("/faults", {"hold_next": {"count": 2, "method": "POST"}})
    released = api.control("/faults", {"release": True})

    assert state.json()["holds"] == [
        {
            "remaining": 2,
            "method": "POST",
            "path": None,
            "received": 0,
            "released": False,
            "release_after": None,
        }
    ]
    assert released.json()["holds"] == []
    assert api.post("/customers", {"contact": {"name": "Free"}}).status_code == 201


def test_commit_then_drop_stores_the_write_and_sends_nothing(
    qoyod_sandbox: SandboxHandle, api: Api
) -> None:
    qoyod_sandbox.faults.drop_next(method="POST", commit=True)

    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/customers", {"contact": {"name": "Saved anyway"}})

    assert [c.name for c in qoyod_sandbox.company(KEY).customers.values()] == ["Saved anyway"]
    assert qoyod_sandbox.requests.find(method="POST")[0].status is None


# ---- the request log ------------------------------------------------------------------------


def test_requests_are_recorded_without_the_key(qoyod_sandbox: SandboxHandle, api: Api) -> None:
    api.get("/customers", **{"q[contact_name_cont]": "x"})
    api.post("/customers", {"contact": {"name": "Ali", "tax_number": "300000000000003"}})
    httpx.get(qoyod_sandbox.base_url + "/taxes")

    recorded = qoyod_sandbox.requests.all()
    over_http = api.http.get("/_sandbox/requests")

    assert [(r.method, r.path, r.status, r.has_api_key) for r in recorded] == [
        ("GET", "/2.0/customers", 404, True),
        ("POST", "/2.0/customers", 201, True),
        ("GET", "/2.0/taxes", 401, False),
    ]
    assert recorded[0].query == [("q[contact_name_cont]", "x")]
    assert recorded[1].body == {"contact": {"name": "Ali", "tax_number": "300000000000003"}}
    assert recorded[0].key_id == recorded[1].key_id != KEY
    assert KEY not in over_http.text
    assert KEY not in repr(recorded) and KEY not in repr(qoyod_sandbox.state.companies())
    assert len(over_http.json()["requests"]) == 3
    assert api.http.delete("/_sandbox/requests").json() == {"requests": []}


def test_connections_are_kept_alive(qoyod_sandbox: SandboxHandle, api: Api) -> None:
    for _ in range(20):
        api.get("/taxes")

    assert qoyod_sandbox.connections_accepted == 1


def test_a_failure_after_commit_stores_the_write_and_answers_the_canned_status(qoyod_sandbox):
    qoyod_sandbox.faults.fail_next(status=502, commit=True, method="POST", path="/customers")
    writer = qoyod_sandbox.writer()

    with pytest.raises(QoyodMaybeSaved):
        writer.create_customer(name="Stored anyway")

    assert [c.name for c in qoyod_sandbox.company().customers.values()] == ["Stored anyway"]
    assert qoyod_sandbox.requests.find(method="POST", path="/2.0/customers")[0].status == 502
