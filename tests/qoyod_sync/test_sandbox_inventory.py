"""The sandbox's stock rules over raw HTTP: draft_if_out_of_stock on a new invoice, and
inventory adjustments (qoyod-api.md §4.4, §5.1), their answers checked against the YAML."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.qoyod_fixtures import SandboxHandle
from tests.qoyod_sync.test_openapi_shapes import mismatches, response_schema, spec
from tests.qoyod_sync.test_sandbox import Api

__all__ = ["spec"]


@pytest.fixture
def api(qoyod_sandbox: SandboxHandle) -> Iterator[Api]:
    client = Api(qoyod_sandbox)
    yield client
    client.http.close()


def adjustment(inventory_id: int, *lines: dict[str, Any], **header: Any) -> dict[str, Any]:
    body = {
        "inventory_id": inventory_id,
        "revenue_account_id": 18,
        "expense_account_id": 22,
        "line_items": list(lines),
        **header,
    }
    return {"inventory_adjustment": body}


def stock(api: Api, product_id: int) -> list[tuple[int, str]]:
    rows = api.get(f"/products/{product_id}").json()["product"]["inventories"]
    return [(row["id"], row["stock"]) for row in rows]


def test_an_out_of_stock_draft_is_refused_unless_sent_with_draft_if_out_of_stock(api: Api) -> None:
    contact, part = api.customer(), api.product("PART", tracked=True)
    lines = [{"product_id": part, "quantity": 2, "unit_price": 10}]

    refused = api.invoice(contact, lines)
    kept = api.invoice(contact, lines, draft_if_out_of_stock=True)
    kept_approved = api.invoice(contact, lines, status="Approved", draft_if_out_of_stock=True)

    assert (refused.status_code, refused.json()) == (
        422,
        {
            "errors": {
                "base": ["Not enough quantity of PART in Main Workshop: 0.0 available, 2.0 needed"]
            }
        },
    )
    assert (kept.status_code, kept.json()["invoice"]["status"]) == (201, "Draft")
    assert (kept_approved.status_code, kept_approved.json()["invoice"]["status"]) == (201, "Draft")
    assert [i["id"] for i in api.get("/invoices").json()["invoices"]] == [
        kept.json()["invoice"]["id"],
        kept_approved.json()["invoice"]["id"],
    ]
    assert stock(api, part) == [(1, "0.0"), (2, "0.0")]


def test_an_adjustment_sets_the_total_at_one_warehouse_and_repeats_without_doubling(
    api: Api, spec: dict[str, Any]
) -> None:
    part, other = api.product("PART", tracked=True), api.product("OTHER", tracked=True)
    api.control(f"/products/{part}/stock", {"quantity": "3"})
    body = adjustment(
        1,
        {"product_id": part, "actual_quantity": "7.0", "rate": "20"},
        {"product_id": other, "actual_quantity": "2"},
        date="2025-03-02",
        description="Stock count",
    )

    first = api.post("/inventory_adjustments", body)
    again = api.post("/inventory_adjustments", body)

    assert first.status_code == again.status_code == 200
    created = first.json()["inventory_adjustment"]
    assert created["id"] == 8001 and again.json()["inventory_adjustment"]["id"] == 8002
    assert (created["date"], created["description"]) == ("2025-03-02", "Stock count")
    assert [
        (row["product"]["id"], row["quantity"], row["value"]) for row in created["line_items"]
    ] == [(part, "7.0", "140.0"), (other, "2.0", "0.0")]
    assert (created["revenue_account"]["id"], created["expense_account"]["id"]) == (18, 22)
    assert stock(api, part) == [(1, "7.0"), (2, "0.0")]
    assert stock(api, other) == [(1, "2.0"), (2, "0.0")]
    schema = response_schema(spec, "POST", "/inventory_adjustments", "200")
    from_yaml = {
        (where, declared, sent)
        for where, declared, sent in mismatches(spec, first.json(parse_float=Decimal), schema, "")
    }
    # Quantities and values go out as decimal strings, as every amount of real output does.
    assert from_yaml == {
        ("inventory_adjustment.line_items[].quantity", "number", "str"),
        ("inventory_adjustment.line_items[].value", "number", "str"),
    }


def test_a_refused_adjustment_changes_nothing_and_answers_invalid_resource(
    api: Api, spec: dict[str, Any]
) -> None:
    part, service = api.product("PART", tracked=True), api.product("SVC")
    api.control(f"/products/{part}/stock", {"quantity": "3"})
    body = adjustment(
        1,
        {"product_id": part, "actual_quantity": "9"},
        {"product_id": service, "actual_quantity": "1"},
        {"product_id": 999, "actual_quantity": "1"},
        {"product_id": part, "actual_quantity": "-1"},
    )
    del body["inventory_adjustment"]["expense_account_id"]

    refused = api.post("/inventory_adjustments", body)
    no_lines = api.post("/inventory_adjustments", adjustment(7, revenue_account_id=99))
    no_envelope = api.post("/inventory_adjustments", {})

    assert (refused.status_code, refused.json()) == (
        422,
        {
            "error": "Invalid resource",
            "messages": {
                "expense_account_id": ["can't be blank"],
                "line_items": [
                    "SVC does not track quantity",
                    "product must exist",
                    "actual quantity of PART must be greater than or equal to 0",
                ],
            },
        },
    )
    assert (no_lines.status_code, no_lines.json()) == (
        422,
        {
            "error": "Invalid resource",
            "messages": {
                "inventory": ["must exist"],
                "revenue_account": ["must exist"],
                "line_items": ["can't be blank"],
            },
        },
    )
    assert no_envelope.status_code == 400
    assert stock(api, part) == [(1, "3.0"), (2, "0.0")]
    schema = response_schema(spec, "POST", "/inventory_adjustments", "422")
    assert list(mismatches(spec, refused.json(), schema, "")) == []


def test_adjustments_cannot_be_listed_read_or_deleted(api: Api) -> None:
    part = api.product("PART", tracked=True)
    api.post("/inventory_adjustments", adjustment(1, {"product_id": part, "actual_quantity": "1"}))

    assert api.get("/inventory_adjustments").status_code == 404
    assert api.get("/inventory_adjustments/8001").status_code == 404
    assert api.delete("/inventory_adjustments/8001").status_code == 404
