"""Reconciliation against the sandbox over loopback HTTP: each way the books can disagree is
found once, a clean company reports zeros, and Qoyod is read in pages of 100, not per invoice."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounting.models import Transaction
from core import roles
from qoyod_sync import types
from qoyod_sync.models import (
    QoyodConnection,
    QoyodCustomerLink,
    ReconciliationFinding,
    ReconciliationRun,
)
from qoyod_sync.reconcile import range_refusal, reconciliation_run
from qoyod_sync.sandbox import journal
from qoyod_sync.sandbox.chart import ACTIVE
from qoyod_sync.sandbox.journal import CONTACT_ACCOUNTS
from tests.accounting_factories import TransactionFactory
from tests.factories import UserFactory
from tests.qoyod_sync.refresh_helpers import (
    connect,
    managed_invoice,
    qoyod_bill,
    qoyod_draft,
    qoyod_id,
    sent_bill,
)

pytestmark = pytest.mark.django_db

INVOICES = "/2.0/invoices"
Kind = ReconciliationFinding.Kind


def _run(sandbox):
    today = timezone.localdate()
    sandbox.requests.clear()
    run = reconciliation_run(date_from=today, date_to=today, reader=sandbox.reader())
    return run, sandbox.requests.count(method="GET", path=INVOICES)


def _headline(run):
    return (run.invoices, run.in_qoyod_once, run.missing, run.duplicates, run.drift, run.orphans)


def test_clean_company_reports_zeros(qoyod_sandbox):
    for _ in range(3):
        managed_invoice(qoyod_sandbox)

    run, requests = _run(qoyod_sandbox)

    assert _headline(run) == (3, 3, 0, 0, 0, 0)
    assert run.findings.count() == 0
    assert requests == 1


def test_duplicate_missing_drift_and_orphan_are_found_exactly(qoyod_sandbox):
    clean = managed_invoice(qoyod_sandbox)
    duplicated = managed_invoice(qoyod_sandbox)
    missing = managed_invoice(qoyod_sandbox)
    drifted = managed_invoice(qoyod_sandbox)
    copy = qoyod_sandbox.act("invoices", qoyod_id(duplicated), "duplicate")["invoice"]["id"]
    qoyod_sandbox.act("invoices", qoyod_id(missing), "delete")
    qoyod_sandbox.act("invoices", qoyod_id(drifted), "inflate")
    orphan_id = qoyod_draft(qoyod_sandbox, total=Decimal("50.00"), reference="INV-2026-999999")

    run, requests = _run(qoyod_sandbox)

    assert _headline(run) == (4, 2, 1, 1, 1, 1)
    found = {(f.kind, f.reference, tuple(f.qoyod_ids)) for f in run.findings.all()}
    assert found == {
        (Kind.DUPLICATE, duplicated.number, (qoyod_id(duplicated), copy)),
        (Kind.MISSING, missing.number, ()),
        (Kind.TOTAL_DRIFT, drifted.number, (qoyod_id(drifted),)),
        (Kind.ORPHAN, "INV-2026-999999", (orphan_id,)),
    }
    drift = run.findings.get(kind=Kind.TOTAL_DRIFT)
    assert drift.params == {
        "number": drifted.number,
        "ours": str(drifted.total),
        "theirs": str(drifted.total * 2),
    }
    assert clean.number not in {f.reference for f in run.findings.all()}
    assert requests == 1


def test_list_requests_are_one_per_hundred_invoices(qoyod_sandbox):
    for _ in range(250):
        managed_invoice(qoyod_sandbox)

    run, requests = _run(qoyod_sandbox)

    assert _headline(run) == (250, 250, 0, 0, 0, 0)
    assert requests == 3


def test_a_run_records_every_request_it_sent_to_qoyod(qoyod_sandbox):
    for _ in range(150):
        managed_invoice(qoyod_sandbox)
    reader = qoyod_sandbox.reader()
    reader.list_customers()
    today = timezone.localdate()
    qoyod_sandbox.requests.clear()

    run = reconciliation_run(date_from=today, date_to=today, reader=reader)

    seen = qoyod_sandbox.requests.all()
    assert {r.method for r in seen} == {"GET"}
    # Invoices in two pages, customers, credit notes, journal entries, simple bills; the
    # reader's earlier request is not the run's.
    assert run.requests == len(seen) == 6


@pytest.fixture
def accountant(client):
    client.force_login(UserFactory(username="accountant", role=roles.ACCOUNTANT))
    return client


def test_run_now_shows_the_headline_the_findings_and_exports_them(qoyod_sandbox, accountant):
    connect(qoyod_sandbox)
    managed_invoice(qoyod_sandbox)
    missing = managed_invoice(qoyod_sandbox)
    qoyod_sandbox.act("invoices", qoyod_id(missing), "delete")
    today = timezone.localdate().isoformat()

    response = accountant.post(
        reverse("qoyod_sync:reconciliation_run"), {"date_from": today, "date_to": today}
    )
    assert response.status_code == 302
    page = accountant.get(reverse("qoyod_sync:reconciliation")).content.decode()
    run = ReconciliationRun.objects.get()
    csv_body = accountant.get(reverse("qoyod_sync:reconciliation_csv", args=[run.pk]))

    assert "2 invoices: 1 in Qoyod once, 0 duplicates, 0 drift" in page
    assert f"{run.requests} requests to Qoyod." in page
    assert run.requests == 5
    assert f"{missing.number} is not in Qoyod: send it again from the invoice page." in page
    assert reverse("invoicing:invoice_detail", args=[missing.pk]) in page
    assert csv_body.content.decode().splitlines() == [
        "kind,reference,invoice,qoyod_ids,what_to_do",
        f"Missing in Qoyod,{missing.number},{missing.number},,"
        f"{missing.number} is not in Qoyod: send it again from the invoice page.",
    ]


def test_a_reversed_range_is_refused_and_runs_nothing(qoyod_sandbox, accountant):
    connect(qoyod_sandbox)
    qoyod_sandbox.requests.clear()

    response = accountant.post(
        reverse("qoyod_sync:reconciliation_run"),
        {"date_from": "2026-12-03", "date_to": "2026-12-01"},
    )

    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    assert ReconciliationRun.objects.count() == 0
    assert qoyod_sandbox.requests.count() == 0


CUSTOMERS = "/2.0/customers"


def _qoyod_customer(sandbox, **fields):
    company = sandbox.company()
    with company.lock:
        return company.create_customer({"status": "Active", **fields}).id


def test_a_customer_created_twice_in_qoyod_is_one_finding_with_both_ids(qoyod_sandbox):
    invoice = managed_invoice(qoyod_sandbox)
    other = managed_invoice(qoyod_sandbox)
    customer = invoice.customer
    customer.vat_number = "300000000000003"
    customer.save(update_fields=["vat_number"])
    linked = _qoyod_customer(qoyod_sandbox, name="Linked", tax_number="300000000000003")
    twice = _qoyod_customer(qoyod_sandbox, name="Someone", tax_number="300000000000003")
    QoyodCustomerLink.objects.create(customer=customer, qoyod_id=linked)
    alone = _qoyod_customer(qoyod_sandbox, name=other.customer.name_en or other.customer.name_ar)
    QoyodCustomerLink.objects.create(customer=other.customer, qoyod_id=alone)

    run, _ = _run(qoyod_sandbox)

    assert _headline(run) == (2, 2, 0, 1, 0, 0)
    finding = run.findings.get()
    assert (finding.kind, finding.qoyod_ids) == (Kind.DUPLICATE_CUSTOMER, [linked, twice])
    name = customer.name_en or customer.name_ar
    assert finding.params == {
        "customer": name,
        "count": 2,
        "ids": f"{linked}, {twice}",
        "keep": linked,
    }
    assert finding.advice == (
        f"{name} is in Qoyod 2 times (ids {linked}, {twice}): merge them in Qoyod and keep "
        f"{linked}, the one this app is linked to."
    )
    assert qoyod_sandbox.requests.count(method="GET", path=CUSTOMERS) == 1


def test_duplicate_customers_match_by_phone_and_exact_name(qoyod_sandbox):
    by_phone = managed_invoice(qoyod_sandbox)
    by_name = managed_invoice(qoyod_sandbox)
    by_phone.customer.phone = "0551234567"
    by_phone.customer.save(update_fields=["phone"])
    name = by_name.customer.name_en or by_name.customer.name_ar
    first = _qoyod_customer(qoyod_sandbox, name="Phone one", phone_number="+966551234567")
    second = _qoyod_customer(qoyod_sandbox, name="Phone two", phone_number="0551234567")
    named = _qoyod_customer(qoyod_sandbox, name=name)
    again = _qoyod_customer(qoyod_sandbox, name=f"  {name.upper()} ")
    QoyodCustomerLink.objects.create(customer=by_phone.customer, qoyod_id=first)
    QoyodCustomerLink.objects.create(customer=by_name.customer, qoyod_id=named)

    run, _ = _run(qoyod_sandbox)

    assert sorted(run.findings.values_list("qoyod_ids", flat=True)) == sorted(
        [[first, second], [named, again]]
    )
    assert run.duplicates == 2


def test_vat_drift_is_read_from_qoyods_lines_when_the_totals_agree(qoyod_sandbox):
    clean = managed_invoice(qoyod_sandbox)
    drifted = managed_invoice(qoyod_sandbox)
    qoyod_sandbox.act("invoices", qoyod_id(drifted), "zero_rate")

    run, requests = _run(qoyod_sandbox)

    assert _headline(run) == (2, 2, 0, 0, 1, 0)
    finding = run.findings.get()
    assert (finding.kind, finding.reference, finding.qoyod_ids) == (
        Kind.VAT_DRIFT,
        drifted.number,
        [qoyod_id(drifted)],
    )
    assert finding.params == {
        "number": drifted.number,
        "ours": str(drifted.vat_total),
        "theirs": "0.00",
    }
    assert finding.advice == (
        f"{drifted.number} has {drifted.vat_total} SAR VAT here and 0.00 SAR in Qoyod: "
        "void and reissue it."
    )
    assert clean.vat_total > 0
    assert requests == 1


def test_vat_of_a_line_without_qoyods_own_figure_is_its_total_less_its_net():
    def line(**fields):
        return types.InvoiceLine.from_json(
            {
                "product_id": 1,
                "quantity": "2.0",
                "unit_price": "35.0",
                "discount_amount": "0.0",
                "tax_percent": "15.0",
                "line_total": "80.5",
                "is_inclusive": False,
                **fields,
            }
        )

    assert line().vat == Decimal("10.50")
    assert line(unrounded_vat_value="10.505").vat == Decimal("10.51")
    assert line(is_inclusive=True, line_total="100.0").vat == Decimal("13.04")


JOURNAL = "/2.0/journal_entries"


def _entry(sandbox, *, description, amount, on):
    company = sandbox.company()
    with company.lock:
        debit, credit = [
            a.id
            for a in company.accounts.values()
            if a.status == ACTIVE and a.id not in CONTACT_ACCOUNTS
        ][:2]
        return journal.create_journal_entry(
            company,
            {
                "date": on.isoformat(),
                "description": description,
                "debit_amounts": [{"account_id": debit, "amount": str(amount)}],
                "credit_amounts": [{"account_id": credit, "amount": str(amount)}],
            },
        ).id


def test_journal_entries_missing_drifting_and_unknown_to_us_are_found(qoyod_sandbox, client):
    today = timezone.localdate()
    clean = TransactionFactory(date=today, amount=Decimal("115.00"))
    drifted = TransactionFactory(date=today, amount=Decimal("230.00"))
    missing = TransactionFactory(date=today, qoyod_entry_id=999_999)
    clean.qoyod_entry_id = _entry(qoyod_sandbox, description=f"{clean.number} Parts",
                                  amount="115.00", on=today)  # fmt: skip
    drifted.qoyod_entry_id = _entry(qoyod_sandbox, description=f"{drifted.number} Tyres",
                                    amount="200.00", on=today)  # fmt: skip
    for row in (clean, drifted):
        row.save(update_fields=["qoyod_entry_id"])
    orphan = _entry(qoyod_sandbox, description="EXP-2026-777777 Fuel", amount="50.00", on=today)
    _entry(qoyod_sandbox, description="Rent for December", amount="900.00", on=today)

    run, _ = _run(qoyod_sandbox)

    assert (run.journal_entries, run.journal_missing, run.journal_drift, run.journal_orphans) == (
        3, 1, 1, 1,
    )  # fmt: skip
    found = {(f.kind, f.reference, tuple(f.qoyod_ids)) for f in run.findings.all()}
    assert found == {
        (Kind.JOURNAL_MISSING, missing.number, (999_999,)),
        (Kind.JOURNAL_DRIFT, drifted.number, (drifted.qoyod_entry_id,)),
        (Kind.JOURNAL_ORPHAN, "EXP-2026-777777", (orphan,)),
    }
    assert run.findings.get(kind=Kind.JOURNAL_DRIFT).params == {
        "number": drifted.number, "ours": "230.00", "theirs": "200.00",
    }  # fmt: skip
    assert qoyod_sandbox.requests.count(method="GET", path=JOURNAL) == 1
    assert all(
        ("q[journal_entry_date_gteq]", today.isoformat()) in r.query
        for r in qoyod_sandbox.requests.all()
        if r.path == JOURNAL
    )

    client.force_login(UserFactory(role=roles.ACCOUNTANT))
    invoices_tab = client.get(reverse("qoyod_sync:reconciliation")).content.decode()
    journal_tab = client.get(reverse("qoyod_sync:reconciliation") + "?tab=journal")
    html = journal_tab.content.decode()
    assert "3 synced transactions: 1 missing, 1 drift, 1 unknown to us" in html
    assert html.count("<tr>") == 4
    assert "EXP-2026-777777" not in invoices_tab
    assert 'data-testid="reconcile-clean"' in invoices_tab


def test_a_draft_expense_bill_is_not_taken_for_a_missing_journal_entry(qoyod_sandbox):
    today = timezone.localdate()
    TransactionFactory(
        date=today, qoyod_entry_id=4001, qoyod_document=Transaction.Document.SIMPLE_BILL
    )

    run, _ = _run(qoyod_sandbox)

    assert (run.journal_entries, run.journal_missing) == (0, 0)
    assert not run.findings.filter(kind=Kind.JOURNAL_MISSING).exists()


BILLS = "/2.0/simple_bills"


def test_expense_bills_missing_duplicated_drifting_and_unknown_to_us_are_found(qoyod_sandbox):
    today = timezone.localdate()
    clean = sent_bill(qoyod_sandbox)
    missing = sent_bill(qoyod_sandbox)
    duplicated = sent_bill(qoyod_sandbox)
    drifted = sent_bill(qoyod_sandbox, amount="230.00", billed="200.00")
    company = qoyod_sandbox.company()
    with company.lock:
        del company.simple_bills[missing.qoyod_entry_id]
        # A tenant that let a second bill take our reference (Qoyod's own check is §7.2).
        original = company.simple_bills[duplicated.qoyod_entry_id]
        copy = dataclasses.replace(original, id=company.next_id("simple_bill"))
        company.simple_bills[copy.id] = copy
    orphan = qoyod_bill(qoyod_sandbox, reference="EXP-2026-777777", amount="50.00", on=today)
    qoyod_bill(qoyod_sandbox, reference="SB-0042", amount="70.00", on=today)

    run, _ = _run(qoyod_sandbox)

    assert (run.bills, run.bills_missing, run.bills_duplicates, run.bills_drift,
            run.bills_orphans) == (4, 1, 1, 1, 1)  # fmt: skip
    found = {(f.kind, f.reference, tuple(f.qoyod_ids)) for f in run.findings.all()}
    assert found == {
        (Kind.BILL_MISSING, missing.number, (missing.qoyod_entry_id,)),
        (Kind.BILL_DUPLICATE, duplicated.number, (duplicated.qoyod_entry_id, copy.id)),
        (Kind.BILL_DRIFT, drifted.number, (drifted.qoyod_entry_id,)),
        (Kind.BILL_ORPHAN, "EXP-2026-777777", (orphan,)),
    }
    assert clean.number not in {f.reference for f in run.findings.all()}
    assert run.findings.get(kind=Kind.BILL_DRIFT).params == {
        "number": drifted.number, "ours": "230.00", "theirs": "200.00",
    }  # fmt: skip
    assert (run.journal_entries, run.journal_missing, run.missing, run.orphans) == (0, 0, 0, 0)
    assert qoyod_sandbox.requests.count(method="GET", path=BILLS) == 1
    assert all(
        ("q[issue_date_gteq]", today.isoformat()) in r.query
        for r in qoyod_sandbox.requests.all()
        if r.path == BILLS
    )


def test_the_expense_bills_tab_shows_its_headline_and_findings_with_links(
    qoyod_sandbox, client, settings
):
    settings.QOYOD_WEB_SIMPLE_BILL_URL = "https://www.qoyod.com/simple_bills/{id}"
    QoyodConnection.objects.create(base_url=settings.QOYOD_BASE_URL)
    sent_bill(qoyod_sandbox)
    drifted = sent_bill(qoyod_sandbox, amount="230.00", billed="200.00")
    _run(qoyod_sandbox)
    client.force_login(UserFactory(role=roles.ACCOUNTANT))

    bills_tab = client.get(reverse("qoyod_sync:reconciliation") + "?tab=bills").content.decode()
    invoices_tab = client.get(reverse("qoyod_sync:reconciliation")).content.decode()
    journal_tab = client.get(reverse("qoyod_sync:reconciliation") + "?tab=journal")

    assert "2 expense bills sent: 0 missing, 0 duplicates, 1 drift, 0 unknown to us" in bills_tab
    section = bills_tab[bills_tab.index('data-testid="reconcile-bills-findings"') :]
    assert section.count("<tr>") == 2
    assert (
        f"{drifted.number} is 230.00 SAR here and its expense bill 200.00 SAR in Qoyod: check "
        "who changed the bill in Qoyod."
    ) in section
    assert f'href="https://www.qoyod.com/simple_bills/{drifted.qoyod_entry_id}"' in section
    assert drifted.number not in invoices_tab
    assert drifted.number not in journal_tab.content.decode()


def test_a_clean_company_with_expense_bills_reports_zeros(qoyod_sandbox):
    for _ in range(2):
        sent_bill(qoyod_sandbox)

    run, _ = _run(qoyod_sandbox)

    assert (run.bills, run.bills_missing, run.bills_duplicates, run.bills_drift,
            run.bills_orphans) == (2, 0, 0, 0, 0)  # fmt: skip
    assert run.findings.count() == 0


def test_a_range_longer_than_a_year_is_refused_and_runs_nothing(qoyod_sandbox, accountant):
    connect(qoyod_sandbox)
    qoyod_sandbox.requests.clear()

    response = accountant.post(
        reverse("qoyod_sync:reconciliation_run"),
        {"date_from": "2025-01-01", "date_to": "2026-01-02"},
    )

    assert response.status_code == 400
    assert (
        "367 days is longer than one run reads (366 days at most): choose a shorter range, or "
        "run it in parts."
    ) in response.content.decode()
    assert 'value="2025-01-01"' in response.content.decode()
    assert ReconciliationRun.objects.count() == 0
    assert qoyod_sandbox.requests.count() == 0


def test_a_range_of_exactly_a_leap_year_is_accepted():
    assert range_refusal(date_from=date(2028, 1, 1), date_to=date(2028, 12, 31)) is None
    assert range_refusal(date_from=date(2026, 12, 3), date_to=date(2026, 12, 3)) is None
