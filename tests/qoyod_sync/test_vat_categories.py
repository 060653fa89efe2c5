"""Zero-rated and exempt lines (issue 11 item 7, item 9): the catalogue mirror reads Qoyod's
special tax reasons, products of such items carry the 0% tax and the tenant's reason id, the
line goes without a percentage, pre-flight refuses what Qoyod would, and the sandbox refuses a
0% supply without a reason as real Qoyod does.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from qoyod_sync.models import FailureKind, QoyodConnection, SyncState
from tests import factories
from tests.qoyod_sync.test_push import (  # noqa: F401  (fixtures)
    accountant,
    calls,
    drafts,
    http_guard,
    make_invoice,
    options,
    qoyod,
    send,
    sync_of,
)
from tests.qoyod_sync.test_sandbox import Api, api  # noqa: F401  (fixture)
from tests.qoyod_sync.test_strict_tenant import nothing_written, product_bodies

pytestmark = pytest.mark.django_db(transaction=True)


def zero_rated_part(**fields):
    return factories.SparePartFactory(
        vat_rate=Decimal("0"), tax_category="Z", vat_exemption_code="VATEX-SA-35", **fields
    )


def exempt_service(**fields):
    return factories.ServiceItemFactory(
        vat_rate=Decimal("0"), tax_category="E", vat_exemption_code="VATEX-SA-29", **fields
    )


def test_a_zero_rated_part_and_an_exempt_service_reach_a_strict_qoyod_with_tax_and_reason(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    part = zero_rated_part(sku="MED-KIT", sale_price=Decimal("120.00"), cost=Decimal("80.00"))
    service = exempt_service(code="FIN-FEE", default_price=Decimal("50.00"))
    standard = factories.ServiceItemFactory(code="OIL-SVC", default_price=Decimal("100.00"))
    invoice = make_invoice(services=[service, standard], parts=[(part, "2")])
    reasons = {r["code"]: r["id"] for r in QoyodConnection.objects.get().catalogue[
        "special_tax_reasons"]}  # fmt: skip

    result = send(invoice, accountant, options)

    assert result.ok, result.message
    assert (invoice.net_total, invoice.vat_total, invoice.total) == (
        Decimal("390.00"), Decimal("15.00"), Decimal("405.00")
    )  # fmt: skip
    sent = {b["sku"]: (b["tax_id"], b.get("special_tax_reason_id")) for b in product_bodies(qoyod)}
    assert sent == {
        "MED-KIT": (2, reasons["VATEX-SA-35"]),
        "FIN-FEE": (3, reasons["VATEX-SA-29"]),
        "OIL-SVC": (1, None),
    }
    assert (reasons["VATEX-SA-35"], reasons["VATEX-SA-29"]) == (8, 12)
    body = qoyod.requests.find(method="POST", path="/2.0/invoices")[0].body["invoice"]
    assert [line.get("tax_percent") for line in body["line_items"]] == [None, "15.00", None]
    (remote,) = drafts(qoyod, invoice)
    assert remote.total == Decimal("405.00")
    assert sync_of(invoice).state == SyncState.DRAFT_CREATED


def test_preflight_refuses_a_standard_item_at_zero_percent_before_any_http(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    service = factories.ServiceItemFactory(name_en="Brake service", vat_rate=Decimal("0"))
    invoice = make_invoice(services=[service])

    result = send(invoice, accountant, options)

    assert (sync_of(invoice).state, sync_of(invoice).failure_kind) == (
        SyncState.FAILED, FailureKind.REJECTED_VAT
    )  # fmt: skip
    assert result.message == (
        "Line 1, Brake service, has 0% VAT, but the item is standard-rated: enter its VAT (15%), "
        "or mark the item zero-rated or exempt with its ZATCA reason under Parts and services."
    )
    assert calls(qoyod) == []
    nothing_written(invoice)


def test_preflight_refuses_a_reason_the_tenant_does_not_list_and_a_missing_zero_tax(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    part = factories.SparePartFactory(
        name_en="Armour plate", vat_rate=Decimal("0"), tax_category="Z",
        vat_exemption_code="VATEX-SA-MLTRY",
    )  # fmt: skip
    invoice = make_invoice(parts=[(part, "1")])
    connection = QoyodConnection.objects.get()
    connection.catalogue = {
        **connection.catalogue,
        "taxes": [t for t in connection.catalogue["taxes"] if t["code"] != "Z"],
    }
    connection.save(update_fields=["catalogue"])

    result = send(invoice, accountant, options)

    assert sync_of(invoice).failure_kind == FailureKind.MAPPING_MISSING
    assert result.message == (
        "Qoyod does not list the ZATCA reason VATEX-SA-MLTRY that Armour plate is marked with: "
        "choose another reason for the item, or press Test connection under Settings → Qoyod "
        "connection if it was added in Qoyod.\nQoyod has no 0% tax for Zero-rated items, needed "
        "for Armour plate: add it in Qoyod, then press Test connection under Settings → Qoyod "
        "connection."
    )
    assert calls(qoyod) == []
    nothing_written(invoice)


def test_the_sandbox_lists_ksa_special_tax_reasons_and_filters_them(api: Api) -> None:  # noqa: F811
    everything = api.get("/special_tax_reasons").json()["special_tax_reasons"]
    exempt = api.get("/special_tax_reasons", **{"q[category_eq]": "E"}).json()

    assert (len(everything), sum(r["category"] == "Z" for r in everything)) == (14, 11)
    assert everything[0] == {
        "id": 1, "code": "VATEX-SA-32", "reason": "export_of_goods", "category": "Z",
        "display_reason": "Export of goods",
    }  # fmt: skip
    assert [r["code"] for r in exempt["special_tax_reasons"]] == [
        "VATEX-SA-29", "VATEX-SA-29-7", "VATEX-SA-30"
    ]  # fmt: skip
    assert api.get("/special_tax_reasons/99").status_code == 404


def test_the_sandbox_refuses_a_zero_percent_supply_without_a_reason(api: Api) -> None:  # noqa: F811
    contact, standard = api.customer(), api.product("STD")
    no_reason = api.post("/products", {"product": {
        "name": "Export kit", "sku": "EXP", "tax_id": 2, "selling_price": "10",
        "buying_price": "5", "sales_account_id": 17,
    }})  # fmt: skip
    wrong_reason = api.post("/products", {"product": {
        "name": "Export kit", "sku": "EXP", "tax_id": 3, "selling_price": "10",
        "buying_price": "5", "sales_account_id": 17, "special_tax_reason_id": 1,
    }})  # fmt: skip
    zero_line = api.invoice(
        contact, [{"product_id": standard, "quantity": 1, "unit_price": 10, "tax_percent": 0}]
    )

    assert (no_reason.status_code, no_reason.json()) == (
        422, {"errors": {"special_tax_reason_id": [
            "can't be blank for a zero-rated or exempt tax"]}},
    )  # fmt: skip
    assert (wrong_reason.status_code, wrong_reason.json()) == (
        422, {"errors": {"special_tax_reason_id": ["is a reason for tax code Z, not E"]}},
    )  # fmt: skip
    assert (zero_line.status_code, zero_line.json()) == (
        422, {"errors": {"line_items.tax_percent": ["must be greater than 0"]}},
    )  # fmt: skip
    assert api.get("/products", **{"q[sku_eq]": "EXP"}).status_code == 404
