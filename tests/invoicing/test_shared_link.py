"""The link a customer gets by email: it expires, and a voided invoice is no longer shown."""

from __future__ import annotations

import time

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from core import roles
from invoicing.services import invoice_void
from invoicing.views.document import SHARE_SALT
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory

pytestmark = pytest.mark.django_db
DAY = 24 * 60 * 60
EXPIRED_EN = "Invoice links work for 30 days. Ask the garage to send you a new link."
EXPIRED_AR = "مدة صلاحية روابط الفواتير: 30 يوم. اطلب من الورشة إرسال رابط جديد."


def link_made(monkeypatch: pytest.MonkeyPatch, invoice_pk: int, *, seconds_ago: int) -> str:
    """The shared link as it was signed `seconds_ago` (the signer's clock, nothing slept)."""
    signed_at = int(time.time()) - seconds_ago
    with monkeypatch.context() as patch:
        patch.setattr(
            signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(signed_at)
        )
        token = signing.dumps(invoice_pk, salt=SHARE_SALT)
    return reverse("invoicing:invoice_shared", args=[token])


def test_a_link_opens_the_invoice_until_the_last_minute_of_its_30_days(monkeypatch):
    invoice = InvoiceFactory()

    response = Client().get(link_made(monkeypatch, invoice.pk, seconds_ago=30 * DAY - 60))

    assert response.status_code == 200
    assert invoice.number in response.text
    assert 'data-testid="shared-' not in response.text


def test_an_expired_link_says_so_and_to_ask_the_garage_for_a_new_one(monkeypatch):
    invoice = InvoiceFactory()

    response = Client().get(link_made(monkeypatch, invoice.pk, seconds_ago=30 * DAY + 60))

    assert response.status_code == 410
    assert 'data-testid="shared-expired"' in response.text
    assert "This link has expired" in response.text
    assert EXPIRED_EN in response.text
    assert "انتهت صلاحية هذا الرابط" in response.text
    assert EXPIRED_AR in response.text
    assert invoice.number not in response.text
    assert invoice.customer_name not in response.text


def test_the_link_lifetime_is_a_setting(monkeypatch, settings):
    settings.INVOICE_SHARE_LINK_DAYS = 2
    invoice = InvoiceFactory()

    fresh = Client().get(link_made(monkeypatch, invoice.pk, seconds_ago=2 * DAY - 60))
    stale = Client().get(link_made(monkeypatch, invoice.pk, seconds_ago=2 * DAY + 60))

    assert fresh.status_code == 200
    assert stale.status_code == 410
    assert "Invoice links work for 2 days." in stale.text
    assert "مدة صلاحية روابط الفواتير: 2 يوم." in stale.text


def test_a_voided_invoice_is_no_longer_shown_by_its_link(monkeypatch):
    invoice = InvoiceFactory()
    link = link_made(monkeypatch, invoice.pk, seconds_ago=60)
    invoice_void(invoice=invoice, reason="Wrong vehicle", user=None)

    response = Client().get(link)

    assert response.status_code == 410
    assert 'data-testid="shared-void"' in response.text
    assert "This invoice was voided" in response.text
    assert (
        f'Invoice <span dir="ltr">{invoice.number}</span> was voided and is no longer valid. '
        "Ask the garage for the current invoice."
    ) in response.text
    assert "تم إلغاء هذه الفاتورة" in response.text
    assert "اطلب من الورشة الفاتورة الحالية." in response.text
    assert invoice.customer_name not in response.text
    assert str(invoice.total) not in response.text


def test_a_forged_or_garbled_link_is_still_not_found(monkeypatch):
    invoice = InvoiceFactory()
    link = link_made(monkeypatch, invoice.pk, seconds_ago=60)

    assert Client().get(link.replace(":", "x", 1)).status_code == 404
    other_salt = signing.dumps(invoice.pk, salt="something-else")
    assert Client().get(reverse("invoicing:invoice_shared", args=[other_salt])).status_code == 404


def test_the_email_says_how_long_the_link_works(settings):
    settings.INVOICE_SHARE_LINK_DAYS = 14
    invoice = InvoiceFactory()
    advisor = Client()
    advisor.force_login(UserFactory(role=roles.ADVISOR))

    advisor.post(reverse("invoicing:invoice_send", args=[invoice.pk]))

    message = mail.outbox[0]
    assert "The link works for 14 days." in message.body
    assert "The link works for 14 days." in message.alternatives[0][0]
