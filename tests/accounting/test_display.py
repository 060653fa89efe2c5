"""A transaction row drawn in Python (accounting/display.py): every part of the Qoyod cell and
the Verify form, exactly as the list shows them, in English and Arabic."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.safestring import SafeString

from accounting.display import RowPage, sync_cell, transaction_row
from accounting.models import Transaction
from garage.models import Branch

S = Transaction.SyncState
PAGE = RowPage(
    can_verify=True,
    sync_tab=False,
    csrf_input=SafeString('<input type="hidden" name="csrfmiddlewaretoken" value="T">'),
    verify_url="/accounting/transactions/verify/",
    next_query="tab=others&amp;q=x",
)


def transaction(**fields) -> Transaction:
    receipt_count = fields.pop("receipt_count", 1)
    row = Transaction(
        pk=7,
        number="EXP-2026-000007",
        date=datetime.date(2026, 11, 20),
        amount=Decimal("115.00"),
        vat_amount=Decimal("15.00"),
        payee="Al <Jazira>",
        branch=Branch(name_en="Olaya", name_ar="العليا"),
        **fields,
    )
    row.receipt_count = receipt_count
    row.sync_problems = []
    return row


def test_a_row_not_synced_yet_shows_its_values_escaped_and_the_verify_form():
    row = transaction(receipt_count=0)

    with translation.override("en"):
        html = transaction_row(row, PAGE)

    assert html == (
        '\n    <tr data-number="EXP-2026-000007" data-pk="7">\n'
        '      <td><input class="form-check-input" type="checkbox" name="pk" value="7"'
        ' form="bulk-assign" aria-label="EXP-2026-000007"></td>\n'
        '      <td dir="ltr">EXP-2026-000007</td>\n'
        "      <td>20/11/2026</td>\n"
        "      <td>Al &lt;Jazira&gt;</td>\n"
        "      <td>Olaya</td>\n"
        "      <td>—</td>\n"
        "      <td>—</td>\n"
        '      <td class="text-end"><bdi dir="ltr">115.00</bdi></td>\n'
        '      <td class="text-end"><bdi dir="ltr">15.00</bdi></td>\n'
        "      <td>0</td>\n"
        "      <td>—</td>\n"
        '      <td data-sync-cell><span class="badge text-bg-secondary" data-sync-state>'
        "Not synced</span>\n\n\n\n\n</td>\n"
        "      <td>\n"
        '        <form method="post" action="/accounting/transactions/verify/"'
        ' class="d-flex gap-1 mb-0">\n'
        '          <input type="hidden" name="csrfmiddlewaretoken" value="T">'
        '<input type="hidden" name="pk" value="7">'
        '<input type="hidden" name="next_query" value="tab=others&amp;amp;q=x">\n'
        '          <input type="text" name="receipt_lost_reason"'
        ' class="form-control form-control-sm" placeholder="Receipt lost: why?"'
        ' aria-label="Receipt lost: why?"><button type="submit" class="btn btn-sm btn-success">'
        "Verify</button>\n"
        "        </form>\n"
        "      </td>\n"
        "    </tr>\n  "
    )


def test_a_reader_without_verify_sees_neither_checkbox_nor_form():
    page = RowPage(
        can_verify=False, sync_tab=False, csrf_input=SafeString(""), verify_url="", next_query=""
    )

    html = transaction_row(transaction(), page)

    assert "checkbox" not in html
    assert "<form" not in html
    assert html.endswith("</td>\n      \n    </tr>\n  ")


def test_on_the_verified_tab_the_checkbox_belongs_to_the_journal_sync_and_undo_is_offered():
    row = transaction(verified_at=timezone.now(), state=S.FAILED)
    page = RowPage(
        can_verify=True, sync_tab=True, csrf_input=SafeString(""), verify_url="/v/", next_query=""
    )

    html = transaction_row(row, page)

    assert ' form="journal-sync" ' in html
    assert (
        '<input type="hidden" name="undo" value="1"><button type="submit"'
        ' class="btn btn-sm btn-outline-secondary">Un-verify</button>\n          \n'
        "        </form>"
    ) in html


def test_a_synced_row_that_cannot_be_unverified_offers_no_button():
    row = transaction(verified_at=timezone.now(), state=S.SYNCED, qoyod_entry_id=1)

    html = transaction_row(row, PAGE)

    assert 'q=x">\n          \n          \n        </form>' in html


def test_a_failed_row_says_why_with_qoyods_words_and_the_problems_found_before_sending():
    row = transaction(
        state=S.FAILED,
        reason_code="journal.no_account",
        qoyod_message="account <closed>",
    )
    row.sync_problems = ["Branch has no Qoyod account", "VAT > amount"]

    with translation.override("en"):
        html = sync_cell(row)

    assert html == (
        '<span class="badge text-bg-danger" data-sync-state>Failed</span>\n\n\n'
        '<div class="small text-danger" data-sync-reason>No account assigned: un-verify, assign'
        " one, verify again. Qoyod said: <bdi>account &lt;closed&gt;</bdi></div>\n"
        '<ul class="small text-warning-emphasis ps-3 mb-0" data-sync-problems>'
        "<li>Branch has no Qoyod account</li><li>VAT &gt; amount</li></ul>\n"
    )


def test_a_synced_expense_bill_names_its_document_entry_and_qoyods_status():
    row = transaction(
        state=S.SYNCED,
        qoyod_entry_id=4512,
        qoyod_document=Transaction.Document.SIMPLE_BILL,
        qoyod_entry_status="Approved",
    )

    with translation.override("ar"):
        html = sync_cell(row)
        synced, bill = (
            translation.gettext("Synced"),
            translation.gettext("Draft expense bill in Qoyod"),
        )

    assert (synced, bill) != ("Synced", "Draft expense bill in Qoyod")
    assert html == (
        f'<span class="badge text-bg-success" data-sync-state>{synced}</span>\n'
        f' <span class="small" data-sync-document>{bill}</span>\n'
        '<bdi dir="ltr" data-sync-entry>#4512</bdi> <span class="small">(<bdi>Approved</bdi>)'
        "</span>\n\n\n"
    )


@pytest.mark.parametrize(
    ("state", "tone"),
    [
        (S.UNKNOWN, "text-bg-warning"),
        (S.SENDING, "text-bg-info"),
        (S.NOT_SYNCED, "text-bg-secondary"),
    ],
)
def test_each_state_has_its_tone(state, tone):
    assert sync_cell(transaction(state=state)).startswith(f'<span class="badge {tone}" ')
