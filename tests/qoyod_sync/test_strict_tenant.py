"""A strict Qoyod tenant (issue 11 item 7): products carry their prices and accounts, pre-flight
requires the mappings that make that possible and the fields the accountant's Approve needs
under ZATCA Phase 2, and the sandbox refuses what such a tenant refuses.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from garage.models import JobCard
from qoyod_sync.models import (
    FailureKind,
    PaymentMethod,
    QoyodAttempt,
    QoyodConnection,
    QoyodCustomerLink,
    QoyodProductLink,
    SyncState,
)
from qoyod_sync.sandbox import documents
from qoyod_sync.sandbox.records import ApiError
from qoyod_sync.selectors import fix_link
from tests import factories
from tests.qoyod_fixtures import COGS_ACCOUNT, PART_ACCOUNTS, SALES_ACCOUNT
from tests.qoyod_sync.test_push import (  # noqa: F401  (fixtures)
    accountant,
    calls,
    drafts,
    http_guard,
    make_invoice,
    options,
    qoyod,
    qoyod_part,
    retry,
    send,
    sync_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTS = "/2.0/products"


def product_bodies(sandbox) -> list[dict]:
    return [r.body["product"] for r in sandbox.requests.find(method="POST", path=PRODUCTS)]


def nothing_written(invoice) -> None:
    assert QoyodCustomerLink.objects.filter(customer=invoice.customer).count() == 0
    assert QoyodProductLink.objects.count() == 0
    assert QoyodAttempt.objects.filter(invoice=invoice).count() == 0
    invoice.refresh_from_db()
    assert invoice.qoyod_managed is False


# ---- product creation sends what a strict tenant requires -------------------------------------


def test_new_service_and_part_are_created_with_prices_and_accounts(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    service = factories.ServiceItemFactory(code="BRK-SVC", default_price=Decimal("180.00"))
    part = factories.SparePartFactory(
        sku="PAD-1", sale_price=Decimal("220.00"), cost=Decimal("140.00")
    )
    invoice = make_invoice(services=[service], parts=[(part, "1")])

    result = send(invoice, accountant, options)

    assert result.ok, result.message
    sent = {body["sku"]: body for body in product_bodies(qoyod)}
    assert {
        sku: (b["selling_price"], b["buying_price"], b.get("sales_account_id"),
              b.get("cogs_account_id"))
        for sku, b in sent.items()
    } == {
        "BRK-SVC": ("180.00", "0.00", SALES_ACCOUNT, None),
        "PAD-1": ("220.00", "140.00", SALES_ACCOUNT, COGS_ACCOUNT),
    }  # fmt: skip
    stored = {p.sku: p for p in qoyod.company().products.values()}
    assert (stored["BRK-SVC"].sales_account_id, stored["BRK-SVC"].expense_account_id) == (
        SALES_ACCOUNT, None,
    )  # fmt: skip
    assert (stored["PAD-1"].sales_account_id, stored["PAD-1"].expense_account_id) == (
        SALES_ACCOUNT, COGS_ACCOUNT,
    )  # fmt: skip


# ---- pre-flight requires the mappings, before any HTTP -----------------------------------------


def test_a_missing_sales_account_stops_the_send_before_any_http(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    service = factories.ServiceItemFactory(name_en="Brake service")
    invoice = make_invoice(services=[service])
    QoyodConnection.objects.update(sales_account_id=None)

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert (sync.state, sync.failure_kind) == (SyncState.FAILED, FailureKind.MAPPING_MISSING)
    assert result.message == (
        "Choose the sales account for parts and services under Settings → Qoyod connection: "
        "Qoyod needs it to create Brake service."
    )
    assert fix_link(sync).url == "/qoyod/settings/"
    assert calls(qoyod) == []
    nothing_written(invoice)

    QoyodConnection.objects.update(sales_account_id=SALES_ACCOUNT)
    assert retry(invoice, accountant, options).ok
    assert len(drafts(qoyod, invoice)) == 1


def test_a_missing_cost_of_goods_sold_account_names_the_parts(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    filter_ = factories.SparePartFactory(name_en="Oil filter")
    pads = factories.SparePartFactory(name_en="Brake pads")
    invoice = make_invoice(services=[factories.ServiceItemFactory()],
                           parts=[(filter_, "1"), (pads, "2")])  # fmt: skip
    QoyodConnection.objects.update(cogs_account_id=None)

    result = send(invoice, accountant, options)

    assert sync_of(invoice).failure_kind == FailureKind.MAPPING_MISSING
    assert result.message == (
        "Choose the cost of goods sold account for parts under Settings → Qoyod connection: "
        "Qoyod needs it to create Oil filter, Brake pads."
    )
    assert calls(qoyod) == []
    nothing_written(invoice)


def test_items_already_linked_in_qoyod_need_no_product_accounts(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    part = factories.SparePartFactory()
    qoyod_id = qoyod_part(qoyod, part)
    QoyodProductLink.objects.create(spare_part=part, qoyod_id=qoyod_id, sku=part.sku)
    invoice = make_invoice(parts=[(part, "1")])
    QoyodConnection.objects.update(sales_account_id=None, cogs_account_id=None)

    result = send(invoice, accountant, options)

    assert result.ok, result.message
    assert qoyod.requests.count(method="POST", path=PRODUCTS) == 0


# ---- phase-2 fields: the accountant's Approve works first time -------------------------------


def test_the_draft_carries_payment_method_and_supply_date_and_approves_first_time(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    completed = timezone.now() - datetime.timedelta(days=2)
    JobCard.objects.filter(pk=invoice.job_id).update(completed_at=completed)

    assert send(invoice, accountant, options).ok

    body = qoyod.requests.find(method="POST", path="/2.0/invoices")[0].body["invoice"]
    supply = timezone.localdate(completed).isoformat()
    assert (body["payment_method"], body["supply_date"]) == (PaymentMethod.CASH, supply)
    approved = qoyod.act("invoices", sync_of(invoice).qoyod_invoice_id, "approve")["invoice"]
    assert (approved["status"], approved["payment_method"], approved["supply_date"]) == (
        "Approved", 10, supply,
    )  # fmt: skip


def test_a_missing_payment_method_stops_the_send_before_any_http(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    QoyodConnection.objects.update(payment_method=None)

    result = send(invoice, accountant, options)

    assert sync_of(invoice).failure_kind == FailureKind.MAPPING_MISSING
    assert result.message == (
        "Choose the payment method on invoices under Settings → Qoyod connection: without it "
        f"the accountant cannot approve {invoice.number} in Qoyod (ZATCA phase 2)."
    )
    assert calls(qoyod) == []
    nothing_written(invoice)


@pytest.mark.parametrize(
    ("name_en", "name_ar", "language", "shown"),
    [("AC", "مكيف", "English", "AC"), ("Oil filter", "زت", "Arabic", "زت")],
)
def test_a_catalogue_name_under_three_characters_is_refused_naming_the_item(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
    name_en,
    name_ar,
    language,
    shown,
):
    part = factories.SparePartFactory(sku="OIL-1", name_en=name_en, name_ar=name_ar)
    invoice = make_invoice(parts=[(part, "1")])

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert sync.failure_kind == FailureKind.REJECTED_PRODUCT
    assert result.message == (
        f"The {language} name of part OIL-1, “{shown}”, is shorter than 3 characters, and Qoyod "
        "refuses it under ZATCA phase 2: give it a longer name under Parts and services."
    )
    assert fix_link(sync).url == "/parts/"
    assert calls(qoyod) == []
    nothing_written(invoice)


def test_a_missing_arabic_name_is_checked_as_the_english_one_sent_in_its_place(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    service = factories.ServiceItemFactory(code="AC", name_en="AC", name_ar="")
    invoice = make_invoice(services=[service])

    result = send(invoice, accountant, options)

    assert result.message.splitlines() == [
        f"The {language} name of service AC, “AC”, is shorter than 3 characters, and Qoyod "
        "refuses it under ZATCA phase 2: give it a longer name under Parts and services."
        for language in ("Arabic", "English")
    ]
    assert calls(qoyod) == []


# ---- the sandbox is a strict tenant ----------------------------------------------------------


def _product(**fields):
    return {
        "name": "فلتر زيت", "en_name": "Oil filter", "sku": "F-1", "tax_id": 1,
        "selling_price": "35", "buying_price": "18", **fields,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"track_quantity": 1, **PART_ACCOUNTS}, None),
        ({"track_quantity": 1, "sales_account_id": SALES_ACCOUNT},
         {"cogs_account_id": ["Can't be blank"]}),
        ({"type": "Service"}, {"sales_account_id": ["Can't be blank"]}),
        ({"type": "Service", "buying_price": None, "selling_price": "", **PART_ACCOUNTS},
         {"selling_price": ["must be a number"], "buying_price": ["must be a number"]}),
        ({"name": "زت", "en_name": "Oi", **PART_ACCOUNTS},
         {"name": ["is too short (minimum is 3 characters)"],
          "en_name": ["is too short (minimum is 3 characters)"]}),
    ],
)  # fmt: skip
def test_the_sandbox_refuses_products_a_strict_tenant_refuses(qoyod_sandbox, fields, errors):
    company = qoyod_sandbox.company()

    if errors is None:
        assert company.create_product(_product(**fields)).expense_account_id == COGS_ACCOUNT
        return
    with pytest.raises(ApiError) as refused:
        company.create_product(_product(**fields))

    assert (refused.value.status, refused.value.body) == (422, {"errors": errors})
    assert company.products == {}


def test_the_sandbox_refuses_approval_without_the_phase_2_fields(qoyod_sandbox):
    writer = qoyod_sandbox.writer()
    contact = writer.create_customer(name="Ali")
    product = writer.create_service_product(
        sku="SVC-1", name_ar="خدمة", name_en="Service", selling_price=Decimal("100"),
        tax_id=1, unit_id=1, category_id=1, sales_account_id=SALES_ACCOUNT,
    )  # fmt: skip
    company = qoyod_sandbox.company()
    line = {"product_id": product.id, "quantity": 1, "unit_price": 100}
    base = {"contact_id": contact.id, "due_date": "2025-03-09", "line_items": [line]}
    missing = {"errors": {"payment_method": ["can't be blank"],
                          "supply_date": ["can't be blank"]}}  # fmt: skip
    draft = documents.create_invoice(company, base)
    with pytest.raises(ApiError) as by_accountant:
        qoyod_sandbox.act("invoices", draft.id, "approve")
    with pytest.raises(ApiError) as by_put:
        documents.update_invoice(company, draft.id, {"status": "Approved", "notes": "late"})
    with pytest.raises(ApiError) as created_approved:
        documents.create_invoice(company, {**base, "status": "Approved", "payment_method": 10})

    assert (by_accountant.value.status, by_accountant.value.body) == (422, missing)
    assert (by_put.value.status, by_put.value.body) == (422, missing)
    assert created_approved.value.body == {"errors": {"supply_date": ["can't be blank"]}}
    assert (draft.status, draft.notes, list(company.invoices)) == ("Draft", "", [draft.id])
    documents.update_invoice(company, draft.id, {"payment_method": 30, "supply_date": "2025-03-01"})
    approved = qoyod_sandbox.act("invoices", draft.id, "approve")["invoice"]
    assert (approved["status"], approved["payment_method"], approved["supply_date"]) == (
        "Approved", 30, "2025-03-01",
    )  # fmt: skip


def test_a_tenant_without_phase_2_approves_without_those_fields(qoyod_sandbox):
    company = qoyod_sandbox.company()
    company.zatca_phase2 = False
    contact = company.create_customer({"name": "Ali"})
    product = company.create_product(_product(type="Service", sales_account_id=SALES_ACCOUNT))
    draft = documents.create_invoice(company, {
        "contact_id": contact.id, "due_date": "2025-03-09",
        "line_items": [{"product_id": product.id, "quantity": 1, "unit_price": 100}],
    })  # fmt: skip

    assert qoyod_sandbox.act("invoices", draft.id, "approve")["invoice"]["status"] == "Approved"
