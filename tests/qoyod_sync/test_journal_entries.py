"""Journal entries and the chart over loopback: the client's methods against the sandbox.

The sandbox refuses what Qoyod refuses (qoyod-api.md §8.2): unbalanced entries, unknown and
inactive accounts; lists by date range and description, unpaged; and models a company that
approves manual entries. The chart walk falls back to cursor paging (§9.4) when deep pages fail.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from qoyod_sync.client import QoyodWriter
from qoyod_sync.errors import QoyodRejected
from qoyod_sync.sandbox import chart
from qoyod_sync.sandbox.chart import DEFAULT_CHART
from qoyod_sync.types import JournalLine, NewJournalEntry
from tests.qoyod_fixtures import SANDBOX_KEY, TEST_OPTIONS, SandboxHandle

ENTRIES = "/2.0/journal_entries"


@pytest.fixture
def sandbox(qoyod_sandbox: SandboxHandle) -> SandboxHandle:
    # Refuse filters the sandbox does not know, so the client cannot lean on an ignored one.
    qoyod_sandbox.server.strict_filters = True
    return qoyod_sandbox


@pytest.fixture
def writer(sandbox: SandboxHandle) -> QoyodWriter:
    return sandbox.writer()


def expense(description: str, on: date, net: str = "100.00", vat: str = "15.00") -> NewJournalEntry:
    gross = Decimal(net) + Decimal(vat)
    return NewJournalEntry(
        date=on,
        description=description,
        debits=(
            JournalLine(account_id=22, amount=Decimal(net), comment="tyres"),
            JournalLine(account_id=20, amount=Decimal(vat)),
        ),
        credits=(JournalLine(account_id=8, amount=gross),),
        inventory_id=1,
    )


def test_the_default_chart_is_the_ksa_chart_with_inactive_accounts(sandbox: SandboxHandle) -> None:
    accounts = sandbox.reader().list_accounts()

    assert [(a.id, a.code) for a in accounts if a.id in (1, 7, 8, 9, 10, 14, 17, 19)] == [
        (1, "120101"),
        (7, "110101"),
        (8, "110201"),
        (9, "1103"),
        (10, "1106"),
        (14, "2101"),
        (17, "4101"),
        (19, "2105"),
    ]
    assert [(a.id, a.status) for a in accounts if not a.is_active] == [
        (30, "Inactive"),
        (31, "Inactive"),
    ]
    assert len(accounts) == len(DEFAULT_CHART)
    assert (accounts[0].parent_type, accounts[0].type_of_account) == ("Asset", "Debit")


def test_a_journal_entry_is_created_and_found_by_date_range_and_description(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    created = writer.create_journal_entry(expense("EXP-2026-000123 tyres", date(2026, 3, 2)))
    writer.create_journal_entry(expense("EXP-2026-000124 fuel", date(2026, 3, 3)))
    writer.create_journal_entry(expense("EXP-2026-000125 oil", date(2026, 4, 1)))
    sandbox.requests.clear()

    march = writer.reader.list_journal_entries(
        date_from=date(2026, 3, 1), date_to=date(2026, 3, 31)
    )
    ours = writer.reader.list_journal_entries(
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 31),
        description_contains="exp-2026-000123",
    )
    none = writer.reader.list_journal_entries(
        date_from=date(2026, 5, 1), date_to=date(2026, 5, 31), description_contains="EXP"
    )

    assert [e.description for e in march] == ["EXP-2026-000123 tyres", "EXP-2026-000124 fuel"]
    assert ours == [created]
    assert none == []
    assert (created.inventory_id, created.status, created.total_debit) == (1, "", Decimal("115.0"))
    assert [(d.account_id, d.amount) for d in created.debits] == [
        (22, Decimal("100.0")),
        (20, Decimal("15.0")),
    ]
    sent = [dict(r.query) for r in sandbox.requests.all() if r.path == ENTRIES]
    # One request each, no paging, the date filter in both spellings (qoyod-api.md §15.18).
    assert len(sent) == 3
    assert all("page" not in q and "per_page" not in q for q in sent)
    assert {k for k in sent[1] if k.startswith("q[")} == {
        "q[description_cont]",
        "q[journal_entry_date_gteq]",
        "q[journal_entry_date_lteq]",
        "q[date_gteq]",
        "q[date_lteq]",
    }


def test_the_journal_list_is_not_paged(sandbox: SandboxHandle, writer: QoyodWriter) -> None:
    for n in range(130):
        writer.create_journal_entry(expense(f"EXP-{n}", date(2026, 3, 2), "1.00", "0.15"))

    rows = writer.reader.list_journal_entries(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2))

    assert len(rows) == 130
    assert sandbox.requests.count(method="GET", path=ENTRIES) == 1


def test_a_date_range_backwards_is_refused_before_any_request(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    with pytest.raises(ValueError, match="before"):
        writer.reader.list_journal_entries(date_from=date(2026, 3, 2), date_to=date(2026, 3, 1))

    assert sandbox.requests.count(method="GET", path=ENTRIES) == 0


@pytest.mark.parametrize(
    ("debits", "credits", "errors"),
    [
        (
            [(22, "100.00"), (20, "15.00")],
            [(8, "114.99")],
            {"base": ["Total debit and credit amounts must be equal"]},
        ),
        ([(999, "1.00")], [(8, "1.00")], {"base": ["Plutus::Account id 999 is not valid"]}),
        # Account 31 is inactive in the default chart.
        ([(31, "1.00")], [(8, "1.00")], {"base": ["Plutus::Account id 31 is not valid"]}),
    ],
)
def test_qoyod_refuses_unbalanced_entries_and_unknown_or_inactive_accounts(
    sandbox: SandboxHandle, writer: QoyodWriter, debits: list, credits: list, errors: dict
) -> None:
    entry = NewJournalEntry(
        date=date(2026, 3, 2),
        description="Broken",
        debits=tuple(JournalLine(account_id=a, amount=Decimal(v)) for a, v in debits),
        credits=tuple(JournalLine(account_id=a, amount=Decimal(v)) for a, v in credits),
    )

    with pytest.raises(QoyodRejected) as caught:
        writer.create_journal_entry(entry)

    assert (caught.value.status_code, caught.value.errors) == (422, errors)
    assert sandbox.company().journal_entries == {}


def test_the_422_bodies_have_the_shapes_of_the_spec(sandbox: SandboxHandle) -> None:
    def post(debit_account: int, amount: str) -> httpx.Response:
        body = {
            "journal_entry": {
                "date": "2026-03-02",
                "debit_amounts": [{"account_id": debit_account, "amount": amount}],
                "credit_amounts": [{"account_id": 8, "amount": "1.00"}],
            }
        }
        return httpx.post(f"{sandbox.base_url}/journal_entries", json=body,
                          headers={"API-KEY": SANDBOX_KEY})  # fmt: skip

    assert [(r.status_code, r.json()) for r in (post(22, "2.00"), post(30, "1.00"))] == [
        (422, {"errors": {"base": ["Total debit and credit amounts must be equal"]}}),
        (422, {"errors": "Plutus::Account id 30 is not valid"}),
    ]


def test_a_deactivated_account_is_listed_inactive_and_refused_for_entries(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    sandbox.act("accounts", 22, "deactivate")

    listed = {a.id: a.status for a in writer.reader.list_accounts()}
    with pytest.raises(QoyodRejected):
        writer.create_journal_entry(expense("EXP-1", date(2026, 3, 2)))

    assert listed[22] == "Inactive"
    assert sandbox.company().journal_entries == {}


def test_with_approval_of_manual_entries_new_entries_await_approval(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    company = sandbox.company()
    sandbox.act("companies", company.number, "approval", {"on": True})

    created = writer.create_journal_entry(expense("EXP-1", date(2026, 3, 2)))
    approved = sandbox.act("journal_entries", created.id, "approve")
    fetched = writer.reader.get_journal_entry(created.id)

    assert created.status == "Awaiting approval"
    assert approved["journal_entry"]["status"] == "Approved"
    assert fetched.status == "Approved"


def test_the_accountant_page_lists_entries_and_approves_them(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    company = sandbox.company()
    page = httpx.Client(base_url=sandbox.root_url, follow_redirects=True)
    page.post("/_sandbox/ui/approval", data={"company": company.number, "id": 1, "on": "1"})
    created = writer.create_journal_entry(expense("EXP-2026-000777 tyres", date(2026, 3, 2)))

    before = page.get("/_sandbox/", params={"company": company.number}).text
    page.post("/_sandbox/ui/entry_approve", data={"company": company.number, "id": created.id})
    after = page.get("/_sandbox/", params={"company": company.number}).text
    page.close()

    assert "EXP-2026-000777 tyres" in before
    assert "Awaiting approval" in before and "Awaiting approval" not in after
    assert company.journal_entries[created.id].status == "Approved"
    assert "Chart of accounts" in before and "Old branch petty cash" in before


def test_the_chart_is_walked_page_by_page_past_a_hundred(sandbox: SandboxHandle) -> None:
    company = sandbox.company()
    for n in range(150):
        chart.account_add(company, code=f"59{n:03}", name_en=f"Expense {n}", name_ar=f"مصروف {n}",
                          type="Expense")  # fmt: skip
    sandbox.requests.clear()

    accounts = sandbox.reader().list_accounts()

    assert len(accounts) == len(DEFAULT_CHART) + 150
    assert len({a.id for a in accounts}) == len(accounts)
    assert [dict(r.query).get("page") for r in sandbox.requests.all()] == ["1", "2"]


def test_when_deep_pages_fail_the_chart_is_read_by_cursor(sandbox: SandboxHandle) -> None:
    company = sandbox.company()
    for n in range(250):
        chart.account_add(company, code=f"59{n:03}", name_en=f"Expense {n}", name_ar=f"مصروف {n}",
                          type="Expense")  # fmt: skip
    chart.deep_pages_fail(company, on=True)
    sandbox.requests.clear()

    accounts = sandbox.reader().list_accounts()
    ids = sorted(company.accounts)
    sent = [
        (r.status, dict(r.query).get("page"), dict(r.query).get("q[id_gt]"))
        for r in sandbox.requests.all()
    ]

    assert len(ids) == len(DEFAULT_CHART) + 250 == 278
    assert [a.id for a in accounts] == ids
    # Page 2 fails however often it is retried as a read; the rest then comes by id.
    assert sent == [
        (200, "1", None),
        *[(500, "2", None)] * TEST_OPTIONS.retry.attempts,
        (200, "1", str(ids[99])),
        (200, "1", str(ids[199])),
    ]
