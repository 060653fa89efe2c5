"""A retry queue row drawn in Python (qoyod_sync/display.py), exactly as the queue shows it."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.utils import translation
from django.utils.safestring import SafeString

from garage.models import Customer
from invoicing.models import Invoice
from qoyod_sync.display import qoyod_words, retry_row
from qoyod_sync.models import FailureKind, QoyodInvoiceSync, SyncState
from qoyod_sync.selectors import FixLink
from qoyod_sync.status import Action, SyncStatus, Why

CSRF = SafeString('<input type="hidden" name="csrfmiddlewaretoken" value="T">')


def sync(**fields) -> QoyodInvoiceSync:
    invoice = Invoice(
        pk=41,
        number="RUH-2026-000041",
        status=Invoice.Status.ISSUED,
        customer=Customer(name_en="A&B"),
    )
    return QoyodInvoiceSync(invoice=invoice, attempts=3, **fields)


def test_an_unknown_send_with_its_fix_who_tried_last_and_the_retry_form():
    row = sync(
        state=SyncState.UNKNOWN,
        failure_kind=FailureKind.CUSTOMER_INCOMPLETE,
        reason_code="send.lease_ran_out",
        qoyod_message="mobile <invalid>",
        # 09:05 UTC is 12:05 in Riyadh, the site's time zone.
        last_attempt_at=datetime.datetime(2026, 11, 20, 9, 5, tzinfo=datetime.UTC),
        last_attempt_by=User(username="noura", first_name="Noura", last_name="Saleh"),
    )
    status = SyncStatus(state=SyncState.UNKNOWN, in_retry_queue=True, refusals={})

    with translation.override("en"):
        html = retry_row(
            row,
            FixLink("/customers/9/edit/", "Edit customer"),
            status,
            csrf_input=CSRF,
            next_path="/qoyod/retry-queue/?x=1&y=2",
        )

    assert html == (
        "\n"
        '    <tr id="retry-row-41">\n'
        '      <td><a href="/invoices/41/">RUH-2026-000041</a></td>\n'
        '      <td dir="auto">A&amp;B</td>\n'
        '      <td><span class="badge text-bg-warning">May already exist in Qoyod</span></td>\n'
        '      <td class="small"><strong>Customer details missing.</strong> '
        f'<span class="text-pre-line">{row.reason}</span>'
        '<span class="d-block small" data-testid="qoyod-words"><span class="text-body-secondary">'
        'Qoyod\'s message:</span> <q dir="auto">mobile &lt;invalid&gt;</q></span>\n'
        "</td>\n"
        '      <td class="text-end">3</td>\n'
        '      <td class="small text-nowrap"><bdi dir="ltr">20/11/2026 12:05</bdi>'
        "<br>Noura Saleh</td>\n"
        '      <td class="text-nowrap">\n'
        '        <a class="btn btn-sm btn-outline-secondary" href="/customers/9/edit/">'
        "Edit customer</a>\n"
        "        \n"
        '        <form method="post" action="/qoyod/invoices/41/retry/" class="d-inline">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="T">\n'
        '          <input type="hidden" name="next" value="/qoyod/retry-queue/?x=1&amp;y=2">\n'
        '          <button type="submit" class="btn btn-sm btn-warning">Retry Qoyod sync</button>\n'
        "        </form>\n"
        "        \n"
        "      </td>\n"
        "    </tr>\n"
        "  "
    )
    assert row.reason and "send.lease_ran_out" not in row.reason


def test_a_void_invoice_never_tried_by_a_person_that_cannot_be_retried_says_why_in_arabic():
    row = sync(state=SyncState.FAILED, failure_kind="", reason_code="", qoyod_message="")
    row.invoice.status = Invoice.Status.VOID
    status = SyncStatus(
        state=SyncState.FAILED,
        in_retry_queue=False,
        refusals={Action.RETRY: Why("The invoice is void: nothing to retry.")},
    )

    with translation.override("ar"):
        html = retry_row(row, None, status, csrf_input=CSRF, next_path="/")
        void, failed = translation.gettext("Void"), str(SyncState.FAILED.label)

    assert void != "Void"
    assert f'</a> <span class="badge text-bg-secondary">{void}</span></td>' in html
    assert f'<span class="badge text-bg-danger">{failed}</span>' in html
    assert '<td class="small"><span class="text-pre-line"></span>\n</td>' in html
    assert '<td class="small text-nowrap"></td>' in html
    assert (
        '<td class="text-nowrap">\n        \n        <span class="small text-body-secondary">'
        "The invoice is void: nothing to retry.</span>\n      </td>"
    ) in html
    assert "<form" not in html


def test_qoyods_words_are_nothing_without_words():
    assert qoyod_words("") == ""
