"""Stock the way a garage works (issue 11 item 6), against the sandbox over loopback HTTP.

A new part's first send makes a draft (draft_if_out_of_stock) and the row says what Qoyod is
short of; Sync stock to Qoyod posts one inventory adjustment whose quantities are our counts,
totals that a repeat after a lost answer cannot double.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from core import roles
from qoyod_sync.models import (
    QoyodAttempt,
    QoyodConnection,
    QoyodProductLink,
    QoyodStockAdjustment,
    SyncState,
)
from qoyod_sync.stock import StockSyncRefused, stock_adjustment_send
from tests import factories
from tests.qoyod_sync.test_push import (
    INVOICES,
    accountant,
    drafts,
    http_guard,
    make_invoice,
    options,
    qoyod,
    qoyod_part,
    send,
    sync_of,
)

__all__ = ["accountant", "http_guard", "options", "qoyod"]

pytestmark = pytest.mark.django_db(transaction=True)

ADJUSTMENTS = "/2.0/inventory_adjustments"


@pytest.fixture
def accounts(qoyod):
    """The finance manager chose the accounts a stock count posts gains and losses to."""
    QoyodConnection.objects.update(stock_gain_account_id=18, stock_loss_account_id=22)
    return qoyod


def row_html(invoice, user) -> str:
    request = RequestFactory().get("/invoices/")
    request.user = user
    template = Template("{% load qoyod_tags %}{% qoyod_cell invoice %}")
    return template.render(Context({"invoice": invoice, "request": request}))


def test_first_send_of_a_new_part_makes_a_draft_and_the_row_shows_the_shortage(
    qoyod, options, accountant
):
    part = factories.SparePartFactory(sku="FLT-9", name_en="Oil filter")
    invoice = make_invoice(services=[factories.ServiceItemFactory()], parts=[(part, "2")])

    result = send(invoice, accountant, options)

    assert result.ok, result.message
    sync = sync_of(invoice)
    assert sync.state == SyncState.DRAFT_CREATED
    assert len(drafts(qoyod, invoice)) == 1
    posted = qoyod.requests.find(method="POST", path=INVOICES)[0].body["invoice"]
    assert posted["draft_if_out_of_stock"] is True
    shortage = "Qoyod is short at warehouse Main Workshop: Oil filter (FLT-9): needs 2, has 0."
    assert sync.stock_shortage_text == shortage
    assert shortage in result.message
    assert shortage in row_html(invoice, accountant)
    product = qoyod.company().products[QoyodProductLink.objects.get(spare_part=part).qoyod_id]
    assert (product.type, product.track_quantity) == ("Product", 1)


def test_a_send_with_enough_stock_shows_no_shortage(qoyod, options, accountant):
    part = factories.SparePartFactory()
    qoyod_part(qoyod, part, stock="2")
    invoice = make_invoice(parts=[(part, "2")])

    result = send(invoice, accountant, options)

    assert result.ok
    assert sync_of(invoice).stock_shortage_text == ""
    assert "short" not in result.message


def stocked_invoice(qoyod, *, ours: str, theirs: str):
    part = factories.SparePartFactory(sku="PAD-1", name_en="Brake pad", cost=Decimal("30.00"))
    product_id = qoyod_part(qoyod, part, stock=theirs)
    invoice = make_invoice(parts=[(part, "1")])
    factories.PartStockFactory(part=part, branch=invoice.branch, quantity=Decimal(ours))
    QoyodProductLink.objects.create(
        spare_part=part, qoyod_id=product_id, sku=part.sku, matched_by="sku"
    )
    return invoice, part, product_id


def test_sync_stock_posts_one_adjustment_of_our_totals(accounts, options, accountant):
    invoice, part, product_id = stocked_invoice(accounts, ours="7", theirs="2")

    result = stock_adjustment_send(
        branch=invoice.branch, invoice=invoice, user=accountant, options=options
    )

    assert result.ok, result.message
    posted = accounts.requests.find(method="POST", path=ADJUSTMENTS)
    assert len(posted) == 1
    assert posted[0].body == {
        "inventory_adjustment": {
            "inventory_id": 1,
            "revenue_account_id": 18,
            "expense_account_id": 22,
            "description": f"Stock count of {invoice.branch.code} for {invoice.number}",
            "date": posted[0].body["inventory_adjustment"]["date"],
            "line_items": [
                {"product_id": product_id, "actual_quantity": "7", "current_qty": "2",
                 "rate": "30.00"},
            ],
        }
    }  # fmt: skip
    assert accounts.company().stock_of(product_id, 1) == Decimal("7")
    adjustment = QoyodStockAdjustment.objects.get()
    assert (adjustment.state, adjustment.qoyod_id, adjustment.created_by) == (
        QoyodStockAdjustment.State.DONE,
        8001,
        accountant,
    )
    assert (adjustment.branch, adjustment.invoice, adjustment.inventory_id) == (
        invoice.branch,
        invoice,
        1,
    )
    assert adjustment.lines == [
        {"part": part.pk, "sku": "PAD-1", "name": "Brake pad", "product_id": product_id,
         "ours": "7", "qoyod": "2"},
    ]  # fmt: skip
    assert [(a.step, a.outcome, a.qoyod_id) for a in adjustment.attempts.all()] == [
        ("stock", "ok", 8001)
    ]
    event = AuditEvent.objects.get(action=AuditEvent.Action.QOYOD_STOCK_ADJUST)
    assert event.after == {
        "branch": invoice.branch.code, "outcome": "ok", "qoyod_id": 8001, "http_status": None,
        "detail_code": "", "lines": {"PAD-1": "7"},
    }  # fmt: skip
    assert result.message == "Qoyod's stock at Main Workshop set to our count for 1 part."


def test_a_repeat_after_a_dropped_answer_does_not_double(accounts, options, accountant):
    invoice, _part, product_id = stocked_invoice(accounts, ours="7", theirs="2")
    accounts.faults.drop_next(method="POST", path="/inventory_adjustments", commit=True)

    first = stock_adjustment_send(branch=invoice.branch, invoice=invoice, user=accountant,
                                  options=options)  # fmt: skip
    dropped = QoyodStockAdjustment.objects.get()
    assert (first.ok, dropped.state) == (False, QoyodStockAdjustment.State.UNKNOWN)
    assert "may already be in Qoyod" in first.message
    assert accounts.company().stock_of(product_id, 1) == Decimal("7")

    again = stock_adjustment_send(branch=invoice.branch, invoice=invoice, user=accountant,
                                  options=options)  # fmt: skip

    assert again.ok, again.message
    assert accounts.company().stock_of(product_id, 1) == Decimal("7")
    # Qoyod's stock was read first and already matches: nothing is posted a second time.
    assert accounts.requests.count(method="POST", path=ADJUSTMENTS) == 1
    dropped.refresh_from_db()
    latest = QoyodStockAdjustment.objects.latest("pk")
    assert (dropped.state, latest.state) == (
        QoyodStockAdjustment.State.SETTLED,
        QoyodStockAdjustment.State.IN_STEP,
    )
    assert len(accounts.company().adjustments) == 1


def test_a_count_that_changed_since_the_lost_answer_is_posted_as_a_total(
    accounts, options, accountant
):
    invoice, part, product_id = stocked_invoice(accounts, ours="7", theirs="2")
    accounts.faults.drop_next(method="POST", path="/inventory_adjustments", commit=True)
    stock_adjustment_send(branch=invoice.branch, invoice=invoice, user=accountant, options=options)
    part.stock.filter(branch=invoice.branch).update(quantity=Decimal("5"))

    again = stock_adjustment_send(branch=invoice.branch, invoice=invoice, user=accountant,
                                  options=options)  # fmt: skip

    assert again.ok, again.message
    assert accounts.company().stock_of(product_id, 1) == Decimal("5")
    assert accounts.requests.count(method="POST", path=ADJUSTMENTS) == 2


def test_missing_stock_accounts_are_refused_with_nothing_sent(qoyod, options, accountant):
    invoice, _part, product_id = stocked_invoice(qoyod, ours="7", theirs="2")
    qoyod.requests.clear()

    with pytest.raises(StockSyncRefused) as refused:
        stock_adjustment_send(
            branch=invoice.branch, invoice=invoice, user=accountant, options=options
        )

    assert refused.value.messages == [
        "Choose the Qoyod accounts for stock count gains and losses in the Qoyod settings "
        "(Settings → Qoyod, mappings) before syncing stock."
    ]
    assert qoyod.requests.all() == []
    assert QoyodStockAdjustment.objects.count() == 0
    assert qoyod.company().stock_of(product_id, 1) == Decimal("2")


def test_a_branch_sync_covers_every_linked_part_of_the_branch(accounts, options, accountant):
    invoice, _part, first_id = stocked_invoice(accounts, ours="7", theirs="2")
    other = factories.SparePartFactory(sku="OIL-5")
    other_id = qoyod_part(accounts, other, stock="9")
    factories.PartStockFactory(part=other, branch=invoice.branch, quantity=Decimal("4"))
    QoyodProductLink.objects.create(spare_part=other, qoyod_id=other_id, sku="OIL-5",
                                    matched_by="sku")  # fmt: skip
    factories.SparePartFactory(sku="NEW-1")  # not in Qoyod yet: nothing to adjust

    result = stock_adjustment_send(branch=invoice.branch, user=accountant, options=options)

    assert result.ok, result.message
    body = accounts.requests.find(method="POST", path=ADJUSTMENTS)[0].body
    assert [(r["product_id"], r["actual_quantity"]) for r in body["inventory_adjustment"][
        "line_items"]] == [(other_id, "4"), (first_id, "7")]  # fmt: skip
    assert (accounts.company().stock_of(first_id, 1), accounts.company().stock_of(other_id, 1)) == (
        Decimal("7"),
        Decimal("4"),
    )
    assert QoyodStockAdjustment.objects.get().invoice is None


def test_the_buttons_post_and_say_what_happened(accounts, settings):
    invoice, _part, product_id = stocked_invoice(accounts, ours="3", theirs="0")
    client = Client()
    client.force_login(factories.UserFactory(username="fm", role=roles.FINANCE_MANAGER))

    from_invoice = client.post(
        reverse("qoyod_sync:invoice_stock_sync", args=[invoice.pk]), follow=True
    )
    for_branch = client.post(
        reverse("qoyod_sync:stock_sync"), {"branch": invoice.branch.pk}, follow=True
    )

    assert "stock at Main Workshop set to our count for 1 part." in from_invoice.text
    assert "Qoyod already has our count at Main Workshop" in for_branch.text
    assert accounts.company().stock_of(product_id, 1) == Decimal("3")
    assert QoyodStockAdjustment.objects.count() == 2
    assert QoyodAttempt.objects.filter(step="stock").count() == 1


FAULTS = {
    "refused (422)": (
        lambda f: f.fail_next(status=422, body={"error": "Invalid resource",
                                                "messages": {"line_items": ["is invalid"]}},
                              method="POST", path="/inventory_adjustments"),
        QoyodStockAdjustment.State.FAILED, "2", 2,
    ),
    "server error (503)": (
        lambda f: f.fail_next(status=503, method="POST", path="/inventory_adjustments"),
        QoyodStockAdjustment.State.UNKNOWN, "2", 2,
    ),
    "rate limited (429)": (
        lambda f: f.fail_next(status=429, retry_after=1, method="POST",
                              path="/inventory_adjustments"),
        QoyodStockAdjustment.State.FAILED, "2", 2,
    ),
    "dropped before processing": (
        lambda f: f.drop_next(commit=False, method="POST", path="/inventory_adjustments"),
        QoyodStockAdjustment.State.UNKNOWN, "2", 2,
    ),
    "dropped after saving": (
        lambda f: f.drop_next(commit=True, method="POST", path="/inventory_adjustments"),
        QoyodStockAdjustment.State.UNKNOWN, "7", 1,
    ),
}  # fmt: skip


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_fault_of_the_adjustment_ends_at_our_count_after_one_more_sync(
    accounts, options, accountant, fault
):
    inject, state, stock_after_fault, posts = FAULTS[fault]
    invoice, _part, product_id = stocked_invoice(accounts, ours="7", theirs="2")
    inject(accounts.faults)

    first = stock_adjustment_send(branch=invoice.branch, invoice=invoice, user=accountant,
                                  options=options)  # fmt: skip
    assert (first.ok, first.adjustment.state) == (False, state), first.message
    assert accounts.company().stock_of(product_id, 1) == Decimal(stock_after_fault)

    again = stock_adjustment_send(branch=invoice.branch, invoice=invoice, user=accountant,
                                  options=options)  # fmt: skip

    assert again.ok, again.message
    assert accounts.company().stock_of(product_id, 1) == Decimal("7")
    assert len(accounts.company().adjustments) == 1
    assert accounts.requests.count(method="POST", path=ADJUSTMENTS) == posts
