"""The daily close: counter payments by method beside Qoyod's receipts, for one branch and day."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core import roles
from invoicing.models import Invoice
from payments.close import daily_close
from payments.models import QoyodAllocation
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db

D = Decimal
DAY = datetime.date(2026, 12, 3)


def _allocation(invoice, amount, *, source=QoyodAllocation.Source.RECEIPT, day=DAY, n=1):
    QoyodAllocation.objects.create(
        invoice=invoice, qoyod_id=n, source_type=source, source_id=n, date=day, amount=amount
    )


@pytest.fixture
def branch():
    local = InvoiceFactory()
    branch = local.branch
    PaymentFactory(invoice=local, amount=D("40.00"), paid_on=DAY)
    PaymentFactory(invoice=local, amount=D("25.50"), paid_on=DAY)
    PaymentFactory(invoice=local, amount=D("30.00"), method="card", paid_on=DAY)
    PaymentFactory(invoice=local, amount=D("5.00"), paid_on=DAY - datetime.timedelta(days=1))
    PaymentFactory(amount=D("99.00"), paid_on=DAY)  # another branch
    managed = InvoiceFactory(job__branch=branch)
    Invoice.objects.filter(pk=managed.pk).update(qoyod_managed=True)
    _allocation(managed, D("100.00"), n=1)
    _allocation(managed, D("20.00"), source=QoyodAllocation.Source.CREDIT_NOTE, n=2)
    _allocation(managed, D("7.00"), day=DAY + datetime.timedelta(days=1), n=3)
    return branch


def test_counter_by_method_beside_qoyod_received(branch):
    close = daily_close(branch=branch, day=DAY)

    assert close.counter == (
        ("Cash", D("65.50")),
        ("Card", D("30.00")),
        ("Bank transfer", D("0.00")),
    )
    assert (close.counter_total, close.qoyod_received, close.difference) == (
        D("95.50"), D("100.00"), D("-4.50")
    )  # fmt: skip


def test_a_day_with_nothing_is_all_zeros(branch):
    close = daily_close(branch=branch, day=DAY - datetime.timedelta(days=7))

    assert (close.counter_total, close.qoyod_received, close.difference) == (
        D("0.00"), D("0.00"), D("0.00")
    )  # fmt: skip


def test_the_page_shows_the_figures(branch, client):
    client.force_login(UserFactory(username="accountant", role=roles.ACCOUNTANT))

    page = client.get(reverse("qoyod_sync:daily_close"), {"branch": branch.pk, "day": "2026-12-03"})

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="counter-total">95.50<' in html
    assert 'data-testid="qoyod-received">100.00<' in html
    assert 'data-testid="close-difference">-4.50<' in html


def test_a_bad_day_is_refused_where_the_user_works(branch, client):
    client.force_login(UserFactory(username="accountant", role=roles.ACCOUNTANT))

    page = client.get(reverse("qoyod_sync:daily_close"), {"branch": branch.pk, "day": "soon"})

    assert page.status_code == 400
    assert 'data-testid="daily-close"' not in page.content.decode()


def test_with_one_branch_the_page_opens_on_todays_close(client):
    invoice = InvoiceFactory()
    PaymentFactory(invoice=invoice, amount=D("12.00"), paid_on=timezone.localdate())
    client.force_login(UserFactory(username="accountant", role=roles.ACCOUNTANT))

    html = client.get(reverse("qoyod_sync:daily_close")).content.decode()

    assert 'data-testid="counter-total">12.00<' in html
    assert f'<option value="{invoice.branch.pk}" selected>' in html


def test_with_several_branches_the_page_waits_for_one_to_be_chosen(branch, client):
    client.force_login(UserFactory(username="accountant", role=roles.ACCOUNTANT))

    page = client.get(reverse("qoyod_sync:daily_close"))

    assert page.status_code == 200
    assert 'data-testid="daily-close"' not in page.content.decode()
