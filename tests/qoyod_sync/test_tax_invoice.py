"""Send on WhatsApp for a Qoyod-managed invoice links Qoyod's own tax invoice once it is approved
there: the link asks Qoyod for a fresh PDF address when opened (GET /invoices/{id}/pdf, whose
addresses expire), and the sandbox serves that PDF and refuses drafts as not printable."""

from __future__ import annotations

import re
from urllib.parse import unquote

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from core import roles
from invoicing.models import Invoice
from invoicing.whatsapp import whatsapp_message
from qoyod_sync.readback import fetch
from tests.factories import UserFactory
from tests.qoyod_fixtures import SANDBOX_KEY
from tests.qoyod_sync.refresh_helpers import connect, managed_invoice, qoyod_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def qoyod(qoyod_sandbox):
    connect(qoyod_sandbox)
    return qoyod_sandbox


def _page(invoice: Invoice) -> str:
    client = Client()
    client.force_login(UserFactory(role=roles.ADVISOR))
    return client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()


def _approved(qoyod) -> Invoice:
    invoice = managed_invoice(qoyod)
    qoyod.act("invoices", qoyod_id(invoice), "approve")
    fetch.invoices_refresh(invoice_ids=[invoice.pk])
    return invoice


def _tax_link(html: str) -> str:
    href = re.search(r'href="(https://wa\.me/[^"]+)"[^>]*data-testid="send-whatsapp"', html)[1]
    return re.search(r"(http://testserver/qoyod/tax-invoice/[^/\s]+/)", unquote(href))[1]


def test_a_draft_in_qoyod_offers_no_whatsapp_and_the_sandbox_will_not_print_it(qoyod):
    invoice = managed_invoice(qoyod)
    fetch.invoices_refresh(invoice_ids=[invoice.pk])

    assert 'data-testid="send-whatsapp"' not in _page(invoice)
    answer = httpx.get(
        f"{qoyod.base_url}/invoices/{qoyod_id(invoice)}/pdf", headers={"API-KEY": SANDBOX_KEY}
    )
    assert (answer.status_code, answer.json()) == (422, {"error": "Invoice is not printable"})


def test_an_approved_invoice_sends_the_customer_qoyods_tax_invoice(qoyod):
    invoice = _approved(qoyod)

    link = _tax_link(_page(invoice))
    opened = Client().get(link.removeprefix("http://testserver"))

    assert opened.status_code == 302
    pdf_file = opened["Location"]
    assert pdf_file == (
        f"{qoyod.server.root_url}/_sandbox/files/{qoyod.company().number}"
        f"/invoice-{qoyod_id(invoice)}.pdf"
    )
    pdf = httpx.get(pdf_file)
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.content.rstrip().endswith(b"%%EOF")
    assert f"Reference {invoice.number}".encode() in pdf.content


def test_the_message_is_the_bilingual_invoice_message_with_the_tax_invoice_link(qoyod):
    invoice = _approved(qoyod)
    html = _page(invoice)

    href = re.search(r'href="(https://wa\.me/[^"]+)"[^>]*data-testid="send-whatsapp"', html)[1]

    digits = "".join(ch for ch in invoice.customer_phone if ch.isdigit())
    message = whatsapp_message(invoice=invoice, link=_tax_link(html))
    assert unquote(href) == f"https://wa.me/{digits}?text={message}"
    assert message.count(invoice.number) == 2


def test_a_tampered_link_is_not_found_and_a_voided_invoice_says_so(qoyod):
    invoice = _approved(qoyod)
    link = _tax_link(_page(invoice)).removeprefix("http://testserver")

    assert Client().get(link[:-3] + "xx/").status_code == 404
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.VOID)
    gone = Client().get(link)
    assert gone.status_code == 410
    assert "This invoice was voided" in gone.content.decode()


def test_when_qoyod_does_not_answer_the_customer_is_told_to_try_again(qoyod):
    invoice = _approved(qoyod)
    link = _tax_link(_page(invoice)).removeprefix("http://testserver")
    qoyod.faults.fail_next(count=10, status=503, method="GET")

    answer = Client().get(link)

    assert answer.status_code == 503
    assert answer["Retry-After"] == "120"
    assert "Your tax invoice is not available right now" in answer.content.decode()
