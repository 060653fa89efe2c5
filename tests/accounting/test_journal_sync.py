"""Verified transactions to Qoyod journal entries, against the sandbox over loopback HTTP."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounting.configuration import configuration_sync
from accounting.models import Account, AccountingSettings, Receipt, Transaction, TransactionEvent
from accounting.sync import transaction_receipts_link_revoke, transaction_sync
from core import roles
from tests import factories
from tests.accounting_factories import TransactionFactory

# The connected-garage fixtures (with the no-transaction-during-HTTP guard) are shared.
from tests.qoyod_sync.test_push import http_guard, options, qoyod  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
ENTRIES = "/2.0/journal_entries"
SITE = "https://garage.example/"
BANK, INPUT_VAT, SUPPLIES, FUEL, INACTIVE = 8, 20, 22, 24, 31


@pytest.fixture
def books(qoyod, options):  # noqa: F811
    assert configuration_sync(user=None, options=options).ok
    AccountingSettings.objects.filter(singleton=True).update(
        source_account=Account.objects.get(qoyod_id=BANK),
        vat_account=Account.objects.get(qoyod_id=INPUT_VAT),
    )
    qoyod.requests.clear()
    return qoyod


def verified(account_id: int = SUPPLIES, **values) -> Transaction:
    from garage.models import Branch

    values.setdefault("branch", Branch.objects.get(code="RUH"))
    values.setdefault("receipt_lost_reason", "Lost at the pump")
    return TransactionFactory(
        account=Account.objects.get(qoyod_id=account_id), verified_at=timezone.now(), **values
    )


def lines(side) -> list[tuple[int, Decimal]]:
    return [(line.account_id, line.amount) for line in side]


def test_three_verified_transactions_become_three_balanced_entries(books, options):  # noqa: F811
    out = verified(amount=Decimal("115.00"), vat_amount=Decimal("15.00"), payee="Jazira")
    fuel = verified(FUEL, amount=Decimal("50.00"), vat_amount=Decimal("0.00"), payee="Aldrees")
    refund = verified(
        FUEL, direction=Transaction.Direction.IN, kind=Transaction.Kind.CASH_IN,
        amount=Decimal("23.00"), vat_amount=Decimal("3.00"), payee="Refund",
    )  # fmt: skip
    user = factories.UserFactory(role=roles.ACCOUNTANT)

    results = transaction_sync(
        pks=[out.pk, fuel.pk, refund.pk], user=user, site=SITE, options=options
    )

    assert [r.ok for r in results] == [True, True, True]
    assert books.requests.count(method="POST", path=ENTRIES) == 3
    assert len(books.requests.all()) == 3
    entries = {e.description.split(" ")[0]: e for e in books.company().journal_entries.values()}
    first, second, third = entries[out.number], entries[fuel.number], entries[refund.number]
    assert lines(first.debits) == [(SUPPLIES, Decimal("100.00")), (INPUT_VAT, Decimal("15.00"))]
    assert lines(first.credits) == [(BANK, Decimal("115.00"))]
    assert lines(second.debits) == [(FUEL, Decimal("50.00"))]
    assert lines(second.credits) == [(BANK, Decimal("50.00"))]
    assert lines(third.debits) == [(BANK, Decimal("23.00"))]
    assert lines(third.credits) == [(FUEL, Decimal("20.00")), (INPUT_VAT, Decimal("3.00"))]
    assert first.description == f"{out.number} Jazira {SITE}r/{out.receipts_token}/"
    assert {first.inventory_id, second.inventory_id, third.inventory_id} == {1}
    assert first.date == out.date.isoformat()
    for row in (out, fuel, refund):
        row.refresh_from_db()
        assert (row.state, row.attempts, row.claim_token, row.lease_until) == (
            "synced",
            1,
            "",
            None,
        )
        assert row.qoyod_entry_id == entries[row.number].id
    assert list(
        TransactionEvent.objects.filter(transaction=out, kind="sync").values_list(
            "details__to", flat=True
        )
    ) == ["sending", "synced"]


def test_commit_then_drop_is_unknown_and_the_retry_links_it_without_a_second_entry(books, options):  # noqa: F811
    row = verified()
    books.faults.drop_next(commit=True, method="POST", path="/journal_entries")

    first = transaction_sync(pks=[row.pk], user=None, site=SITE, options=options)
    row.refresh_from_db()
    assert (first[0].state, row.state, row.qoyod_entry_id) == ("unknown", "unknown", None)
    assert len(books.company().journal_entries) == 1
    books.requests.clear()

    again = transaction_sync(pks=[row.pk], user=None, site=SITE, options=options)

    row.refresh_from_db()
    (entry,) = books.company().journal_entries.values()
    assert (again[0].ok, row.state, row.qoyod_entry_id, row.attempts) == (
        True,
        "synced",
        entry.id,
        2,
    )
    assert [f"{r.method} {r.path}" for r in books.requests.all()] == [f"GET {ENTRIES}"]
    assert "linked" in again[0].message


def test_an_unknown_row_whose_number_matches_someone_elses_entry_is_created(books, options):  # noqa: F811
    row = verified()
    Transaction.objects.filter(pk=row.pk).update(state="unknown")
    books.writer().create_journal_entry(
        __import__("qoyod_sync.types", fromlist=["NewJournalEntry"]).NewJournalEntry(
            date=row.date, description=f"{row.number} typed by hand",
            debits=(__import__("qoyod_sync.types", fromlist=["JournalLine"]).JournalLine(
                account_id=FUEL, amount=Decimal("1.00")),),
            credits=(__import__("qoyod_sync.types", fromlist=["JournalLine"]).JournalLine(
                account_id=BANK, amount=Decimal("1.00")),),
        )
    )  # fmt: skip
    books.requests.clear()

    result = transaction_sync(pks=[row.pk], user=None, site=SITE, options=options)

    assert result[0].ok
    assert len(books.company().journal_entries) == 2
    assert books.requests.count(method="POST", path=ENTRIES) == 1


def test_preflight_refusals_change_nothing_and_make_no_http(books, options):  # noqa: F811
    AccountingSettings.objects.filter(singleton=True).update(
        vat_account=None, receipt_required=True
    )
    no_vat_account = verified()
    inactive = verified(INACTIVE, vat_amount=Decimal("0.00"))
    no_receipt = verified(vat_amount=Decimal("0.00"), receipt_lost_reason="")
    unverified = TransactionFactory(account=Account.objects.get(qoyod_id=SUPPLIES))
    before = list(Transaction.objects.order_by("pk").values())
    events = TransactionEvent.objects.count()

    results = transaction_sync(
        pks=[no_vat_account.pk, inactive.pk, no_receipt.pk, unverified.pk], user=None, site=SITE,
        options=options,
    )  # fmt: skip

    messages = {r.number: r.message for r in results}
    assert all(r.refused for r in results)
    assert "no input-VAT account is set" in messages[no_vat_account.number]
    assert "is inactive in Qoyod" in messages[inactive.number]
    assert "No receipt" in messages[no_receipt.number]
    assert "Not verified" in messages[unverified.number]
    assert books.requests.all() == []
    assert list(Transaction.objects.order_by("pk").values()) == before
    assert TransactionEvent.objects.count() == events


def test_the_verified_tab_shows_preflight_and_the_sync_posts_a_batch(books):
    ready = verified()
    blocked = verified(INACTIVE, vat_amount=Decimal("0.00"))
    client = Client()
    client.force_login(factories.UserFactory(role=roles.ACCOUNTANT))

    page = client.get("/accounting/transactions/?tab=verified").content.decode()
    answer = client.post(
        "/accounting/transactions/sync/", {"pk": [ready.pk, blocked.pk]},
        HTTP_ACCEPT="application/json",
    )  # fmt: skip

    assert "is inactive in Qoyod" in page and 'id="journal-sync"' in page
    assert "journal_sync.js" in page
    results = {r["number"]: r for r in answer.json()["results"]}
    assert results[ready.number]["state"] == "synced" and results[ready.number]["entry_id"]
    assert results[blocked.number]["refused"] is True
    too_many = client.post(
        "/accounting/transactions/sync/", {"pk": list(range(1, 8))}, HTTP_ACCEPT="application/json"
    )
    assert too_many.status_code == 400


def test_the_receipts_page_shows_the_transaction_until_the_link_is_revoked(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    row = TransactionFactory(payee="Jazira")
    user = factories.UserFactory()
    receipt = Receipt.objects.create(
        transaction=row, file=SimpleUploadedFile("r.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 8),
        content_type="image/png", size=16, uploaded_by=user,
    )  # fmt: skip
    other = TransactionFactory(payee="Someone else")
    page = Client().get(f"/r/{row.receipts_token}/")
    image = Client().get(f"/r/{row.receipts_token}/{receipt.pk}/")
    wrong = Client().get(f"/r/{other.receipts_token}/{receipt.pk}/")
    old = row.receipts_token

    transaction_receipts_link_revoke(row=row, user=user)

    assert page.status_code == 200 and "Jazira" in page.content.decode()
    assert "Someone else" not in page.content.decode()
    assert (image.status_code, image["Content-Type"]) == (200, "image/png")
    assert wrong.status_code == 404
    assert Client().get(f"/r/{old}/").status_code == 404
    assert Client().get(f"/r/{row.receipts_token}/").status_code == 200
    assert TransactionEvent.objects.filter(transaction=row, kind="link_revoked").count() == 1


def test_a_date_far_back_is_looked_up_on_its_own_day(books, options):  # noqa: F811
    row = verified(date=datetime.date(2025, 1, 31))
    Transaction.objects.filter(pk=row.pk).update(state="unknown")

    transaction_sync(pks=[row.pk], user=None, site=SITE, options=options)

    (lookup,) = [r for r in books.requests.all() if r.method == "GET"]
    assert dict(lookup.query)["q[journal_entry_date_gteq]"] == "2025-01-31"


def test_two_users_syncing_the_same_selection_make_one_entry_each(
    require_postgres,
    books,
    options,  # noqa: F811
):
    import threading

    from django.db import connection

    rows = [verified() for _n in range(4)]
    pks = [row.pk for row in rows]
    users = [factories.UserFactory(role=roles.ACCOUNTANT) for _n in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list = []
    errors: list = []

    def click(user) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes.extend(transaction_sync(pks=pks, user=user, site=SITE, options=options))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert books.requests.count(method="POST", path=ENTRIES) == 4
    assert len(books.company().journal_entries) == 4
    assert sorted(r.number for r in outcomes if r.ok) == sorted(r.number for r in rows)
    assert all(r.refused for r in outcomes if not r.ok)
    assert set(Transaction.objects.values_list("state", "attempts")) == {("synced", 1)}


def test_the_demo_enters_expenses_in_every_state_once_and_they_sync(
    books,
    options,  # noqa: F811
    tmp_path,
    settings,
):
    from accounting.demo import demo_transactions_seed
    from garage.models import Branch

    settings.MEDIA_ROOT = tmp_path
    AccountingSettings.objects.filter(singleton=True).update(receipt_required=True)
    finance = factories.UserFactory(role=roles.FINANCE_MANAGER)

    made = demo_transactions_seed(user=finance, branches=list(Branch.objects.all()))
    again = demo_transactions_seed(user=finance, branches=list(Branch.objects.all()))

    assert (made, again) == (32, 0)
    assert Transaction.objects.filter(account__isnull=True).count() == 8
    assert Transaction.objects.filter(account__isnull=False, verified_at__isnull=True).count() == 3
    ready = list(Transaction.objects.filter(verified_at__isnull=False).values_list("pk", flat=True))
    assert len(ready) == 21
    assert set(Transaction.objects.values_list("state", flat=True)) == {"not_synced"}
    results = transaction_sync(pks=ready[:5], user=finance, site=SITE, options=options)
    assert [r.ok for r in results] == [True] * 5


def test_without_javascript_a_small_selection_is_synced_by_a_plain_form_post(books):
    row = verified()
    client = Client()
    client.force_login(factories.UserFactory(role=roles.FINANCE_MANAGER))

    response = client.post(
        "/accounting/transactions/sync/", {"pk": [row.pk], "next_query": "tab=verified"}
    )

    row.refresh_from_db()
    assert (response.status_code, response["Location"]) == (
        302,
        "/accounting/transactions/?tab=verified",
    )
    assert (row.state, books.requests.count(method="POST", path=ENTRIES)) == ("synced", 1)
    page = client.get(response["Location"]).content.decode()
    assert f"Journal entry {row.qoyod_entry_id} created in Qoyod." in page
    assert f"#{row.qoyod_entry_id}" in page
