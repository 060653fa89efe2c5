"""The invoices page and the refresh routes: the page, once loaded, posts its rows and the stale
ones are queued (the page itself writes nothing and never waits for Qoyod), Refresh from Qoyod
swaps the row, Refresh Qoyod queues the visible rows, the poll hands back the rows that finished.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import roles
from invoicing.models import Invoice
from payments.models import QoyodPaymentState, QoyodStatus
from qoyod_sync.readback import fetch
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory
from tests.qoyod_sync.refresh_helpers import connect, managed_invoice, qoyod_id

pytestmark = pytest.mark.django_db

LIST = "/invoices/"


@pytest.fixture
def advisor(client):
    client.force_login(UserFactory(username="advisor", role=roles.ADVISOR))
    return client


@pytest.fixture
def qoyod(qoyod_sandbox):
    connect(qoyod_sandbox)
    return qoyod_sandbox


def _pending_attr(html: str) -> int:
    return int(re.search(r'data-testid="qoyod-refresh-status" data-pending="(\d+)"', html)[1])


def _stale_check(client, html: str):
    """What htmx does once the page has loaded: post the stale form's rows."""
    form = re.search(
        r'<form hidden hx-post="([^"]+)" hx-trigger="load"[^>]*>(.*?)</form>', html, re.S
    )
    ids = re.findall(r'name="invoice" value="(\d+)"', form[2])
    return client.post(form[1], {"invoice": ids}, HTTP_HX_REQUEST="true")


def test_opening_the_page_writes_nothing_and_asks_for_the_stale_check(
    advisor, qoyod, django_capture_on_commit_callbacks
):
    stale = managed_invoice(qoyod)
    InvoiceFactory()  # not in Qoyod: never queued

    with django_capture_on_commit_callbacks() as callbacks:
        response = advisor.get(LIST)

    assert response.status_code == 200
    assert callbacks == []
    assert not QoyodPaymentState.objects.filter(invoice=stale).exists()
    html = response.content.decode()
    assert f'hx-post="{reverse("qoyod_sync:refresh_stale")}" hx-trigger="load"' in html
    assert f'hx-select-oob="#invoice-row-{stale.pk}"' in html
    assert _pending_attr(html) == 0
    assert 'data-testid="qoyod-refresh-all"' in html


def test_the_stale_check_queues_stale_qoyod_rows_and_does_not_ask_qoyod(
    advisor, qoyod, django_capture_on_commit_callbacks
):
    stale = managed_invoice(qoyod)
    other = InvoiceFactory()  # not in Qoyod: never queued
    page = advisor.get(LIST).content.decode()

    with django_capture_on_commit_callbacks() as callbacks:
        response = _stale_check(advisor, page)

    assert response.status_code == 200
    assert qoyod.requests.count() == 0
    assert len(callbacks) == 1  # one task for the page, sent after commit
    state = QoyodPaymentState.objects.get(invoice=stale)
    assert state.queued_until > timezone.now() and state.claim_token
    assert not QoyodPaymentState.objects.filter(invoice=other).exists()
    html = response.content.decode()
    assert html.startswith('<span id="qoyod-refresh-status"')
    assert _pending_attr(html) == 1
    assert f"invoice={stale.pk}" in html and f"#invoice-row-{stale.pk}" in html
    assert f'id="invoice-row-{stale.pk}"' in html
    assert "Refreshing from Qoyod…" in html  # the row itself says it is waiting


def test_rows_checked_recently_are_not_queued_again(
    advisor, qoyod, django_capture_on_commit_callbacks
):
    invoice = managed_invoice(qoyod)
    fetch.invoices_refresh(invoice_ids=[invoice.pk])
    page = advisor.get(LIST).content.decode()

    with django_capture_on_commit_callbacks() as callbacks:
        response = _stale_check(advisor, page)

    assert callbacks == []
    assert _pending_attr(response.content.decode()) == 0
    # "now" or "a second ago", depending on the clock.
    assert re.search(r'data-testid="qoyod-refreshed"[^>]*>Refreshed ', page)


def test_a_row_checked_longer_ago_than_the_stale_minutes_is_queued(
    advisor, qoyod, settings, django_capture_on_commit_callbacks
):
    invoice = managed_invoice(qoyod)
    fetch.invoices_refresh(invoice_ids=[invoice.pk])
    old = timezone.now() - timedelta(minutes=settings.QOYOD_REFRESH_STALE_MINUTES, seconds=1)
    QoyodPaymentState.objects.filter(invoice=invoice).update(checked_at=old)

    with django_capture_on_commit_callbacks() as callbacks:
        _stale_check(advisor, advisor.get(LIST).content.decode())

    assert len(callbacks) == 1


def test_a_page_opened_twice_queues_one_task(advisor, qoyod, django_capture_on_commit_callbacks):
    invoice = managed_invoice(qoyod)

    with django_capture_on_commit_callbacks() as callbacks:
        _stale_check(advisor, advisor.get(LIST).content.decode())
        second_page = advisor.get(LIST).content.decode()
        second = _stale_check(advisor, second_page)

    assert len(callbacks) == 1
    # The second page's row already waits for the read the first one queued, and so does its
    # status line.
    assert re.search(rf'id="invoice-row-{invoice.pk}".*Refreshing from Qoyod…', second_page, re.S)
    assert _pending_attr(second.content.decode()) == 1


def test_the_page_costs_the_same_queries_for_1_and_20_qoyod_rows(advisor, qoyod):
    managed_invoice(qoyod)
    with CaptureQueriesContext(connection) as one:
        advisor.get(LIST)
    for _ in range(19):
        managed_invoice(qoyod)
    with CaptureQueriesContext(connection) as twenty:
        advisor.get(LIST)

    assert len(one) == len(twenty)


def test_refresh_from_qoyod_swaps_the_row_with_the_paid_state(advisor, qoyod):
    invoice = managed_invoice(qoyod)
    qoyod.act("invoices", qoyod_id(invoice), "approve")
    qoyod.act("invoices", qoyod_id(invoice), "payments", {})

    response = advisor.post(
        reverse("qoyod_sync:invoice_refresh", args=[invoice.pk]), HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="invoice-row-{invoice.pk}"')
    assert "In Qoyod: Paid" in html and "paid 276.00 of 276.00" in html
    assert "Updated from Qoyod." in html
    assert f'hx-post="/qoyod/invoices/{invoice.pk}/refresh/"' in html
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == (Invoice.Status.PAID, Decimal("276.00"))
    history = invoice.history.last()
    assert (history.to_status, history.changed_by.username) == ("paid", "advisor")


def test_refresh_from_qoyod_without_htmx_redirects_back_with_a_message(advisor, qoyod):
    invoice = managed_invoice(qoyod)
    qoyod.act("invoices", qoyod_id(invoice), "delete")
    detail = reverse("invoicing:invoice_detail", args=[invoice.pk])

    response = advisor.post(
        reverse("qoyod_sync:invoice_refresh", args=[invoice.pk]), {"next": detail}, follow=True
    )

    assert response.redirect_chain == [(detail, 302)]
    html = response.content.decode()
    assert "Updated from Qoyod." in html
    assert "Returned by accounting" in html


def test_refresh_from_qoyod_shows_why_it_failed(advisor, qoyod):
    invoice = managed_invoice(qoyod)
    qoyod.faults.fail_next(3, status=401, method="GET")

    response = advisor.post(
        reverse("qoyod_sync:invoice_refresh", args=[invoice.pk]), HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert 'data-testid="qoyod-refresh-message"' in html and "text-danger" in html
    assert "Could not refresh from Qoyod: Qoyod refused the API key (HTTP 401)" in html


def test_refresh_qoyod_queues_the_visible_rows_even_when_fresh(
    advisor, qoyod, django_capture_on_commit_callbacks
):
    fresh, other = managed_invoice(qoyod), managed_invoice(qoyod)
    fetch.invoices_refresh(invoice_ids=[fresh.pk, other.pk])
    local = InvoiceFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        response = advisor.post(
            reverse("qoyod_sync:invoices_refresh"),
            {"invoice": [fresh.pk, other.pk, local.pk]},
            HTTP_HX_REQUEST="true",
        )

    assert len(callbacks) == 1
    html = response.content.decode()
    assert html.startswith('<span id="qoyod-refresh-status"')
    assert _pending_attr(html) == 2
    assert qoyod.requests.count(path="/2.0/invoices") == 1  # only the refresh above


def test_refresh_qoyod_with_no_qoyod_rows_says_so(advisor, db):
    response = advisor.post(
        reverse("qoyod_sync:invoices_refresh"), {"invoice": ["x", "99999"]}, follow=True
    )

    assert "No invoice on this page is in Qoyod." in response.content.decode()


def test_the_poll_hands_back_the_rows_that_finished(advisor, qoyod):
    done, waiting = managed_invoice(qoyod), managed_invoice(qoyod)
    qoyod.act("invoices", qoyod_id(done), "approve")
    fetch.invoices_mark_queued(invoice_ids=[waiting.pk], token="t", stale_only=False)
    fetch.invoices_refresh(invoice_ids=[done.pk])
    url = reverse("qoyod_sync:refresh_poll")

    response = advisor.get(url, {"invoice": [done.pk, waiting.pk], "started": int(time.time())})

    html = response.content.decode()
    assert _pending_attr(html) == 1
    assert f"#invoice-row-{waiting.pk}" in html and f"invoice={waiting.pk}" in html
    assert f'<tr id="invoice-row-{done.pk}"' in html
    assert "In Qoyod: Approved" in html
    assert f'<tr id="invoice-row-{waiting.pk}"' not in html


def test_the_poll_stops_when_every_row_finished(advisor, qoyod):
    invoice = managed_invoice(qoyod)
    fetch.invoices_refresh(invoice_ids=[invoice.pk])

    response = advisor.get(
        reverse("qoyod_sync:refresh_poll"), {"invoice": invoice.pk, "started": int(time.time())}
    )

    html = response.content.decode()
    assert _pending_attr(html) == 0 and "hx-trigger" not in html
    assert "Refreshed from Qoyod." in html


def test_the_poll_gives_up_when_the_worker_never_came(advisor, qoyod):
    invoice = managed_invoice(qoyod)
    fetch.invoices_mark_queued(invoice_ids=[invoice.pk], token="t", stale_only=False)
    long_ago = int(time.time() - fetch.QUEUED_FOR.total_seconds() - 1)

    response = advisor.get(
        reverse("qoyod_sync:refresh_poll"), {"invoice": invoice.pk, "started": long_ago}
    )

    html = response.content.decode()
    assert _pending_attr(html) == 0 and "hx-trigger" not in html
    assert "the worker may be stopped" in html


def test_the_cell_shows_partial_payment_total_difference_and_last_error(advisor, qoyod):
    invoice = managed_invoice(qoyod, qoyod_total=Decimal("300.00"))
    qoyod.act("invoices", qoyod_id(invoice), "approve")
    qoyod.act("invoices", qoyod_id(invoice), "payments", {"amount": "50.00"})
    fetch.invoices_refresh(invoice_ids=[invoice.pk])
    QoyodPaymentState.objects.filter(invoice=invoice).update(
        last_error_code="legacy",
        last_error_params={"text": "Could not refresh from Qoyod: down"},
        checked_at=timezone.now(),
    )

    html = advisor.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()

    assert "In Qoyod: Partially paid" in html and "paid 50.00 of 300.00" in html
    assert "Qoyod total differs by 24.00" in html
    assert "Could not refresh from Qoyod: down" in html
    assert QoyodPaymentState.objects.get(invoice=invoice).qoyod_status == (
        QoyodStatus.PARTIALLY_PAID
    )
