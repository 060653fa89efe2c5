"""The sandbox's vendors and simple bills answer as the published spec says, never kinder."""

from __future__ import annotations

import pytest

from qoyod_sync.sandbox.api import handle
from qoyod_sync.sandbox.bills import create_vendor
from qoyod_sync.sandbox.company import Company
from qoyod_sync.sandbox.server import SandboxState


@pytest.fixture
def company() -> Company:
    state = SandboxState()
    return Company(number=1, key_hint="test", lock=state.lock, opening_stock=state.opening_stock)


def bill(**values: object) -> dict[str, object]:
    line = {"expense_category_id": 22, "total_amount": "115.00", "tax_id": 1, "is_inclusive": True}
    body = {"contact_id": 0, "issue_date": "2026-11-01", "inventory_id": 1, "reference": "EXP-1",
            "simple_bill_items_attributes": [line]}  # fmt: skip
    body.update(values)
    return {"simple_bill": body}


def test_missing_fields_come_back_as_the_spec_s_plain_list(company: Company) -> None:
    status, body = handle(company, "POST", "/simple_bills", [], {"simple_bill": {"x": 1}},
                          strict=False)  # fmt: skip

    assert (status, body) == (
        422,
        {"errors": ["contact id is missing", "issue_date is missing", "inventory_id is missing",
                    "simple_bill_items_attributes is missing"]},
    )  # fmt: skip
    assert company.simple_bills == {}


def test_a_customer_or_inactive_vendor_is_refused_and_a_reference_is_taken_once(company):
    vendor = create_vendor(company, {"name": "Jazira", "tax_number": "300000000000003"})
    gone = create_vendor(company, {"name": "Old", "status": "Inactive"})

    first = handle(company, "POST", "/simple_bills", [], bill(contact_id=vendor.id), strict=False)
    again = handle(company, "POST", "/simple_bills", [], bill(contact_id=vendor.id), strict=False)
    inactive = handle(company, "POST", "/simple_bills", [], bill(contact_id=gone.id, reference="2"),
                      strict=False)  # fmt: skip

    assert first[0] == 201 and first[1]["simple_bill"]["status"] == "Draft"
    assert first[1]["simple_bill"]["total"] == "115.0"
    assert first[1]["simple_bill"]["line_items"][0]["unrounded_vat_value"] == "15.0"
    assert again == (422, {"errors": {"reference": ["has already been taken"]}})
    assert inactive == (422, {"errors": {"contact": ["must be an active vendor"]}})
    customer = company.create_customer({"name": "A customer"})
    as_customer = handle(
        company, "POST", "/simple_bills", [], bill(contact_id=customer.id, reference="3"),
        strict=False,
    )  # fmt: skip
    assert as_customer == inactive
    assert len(company.simple_bills) == 1


def test_vendors_list_filters_by_vat_number_and_is_a_404_when_empty(company: Company) -> None:
    create_vendor(company, {"name": "Jazira", "tax_number": "300000000000003"})

    found = handle(company, "GET", "/vendors", [("q[tax_number_eq]", "300000000000003")], None,
                   strict=False)  # fmt: skip
    none = handle(company, "GET", "/vendors", [("q[tax_number_eq]", "3999")], None, strict=False)

    assert [v["name"] for v in found[1]["vendors"]] == ["Jazira"]
    assert none == (404, "We could not retrieve your vendors, we found nothing.")
