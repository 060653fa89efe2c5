"""The invoice as a PDF: laid out from the print page with the shipped fonts, for staff, for the
customer's signed link, and attached to the customer's email."""

from __future__ import annotations

import re
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from core import roles
from invoicing import pdf
from invoicing.services import invoice_void
from invoicing.views.document import SHARE_SALT
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory

pytestmark = pytest.mark.django_db


def _fonts(document: bytes) -> set[str]:
    """The font names embedded in a PDF (subset prefixes dropped), from its compressed object
    streams as well as its plain objects."""
    names = re.findall(rb"/FontName\s*/[A-Z]{6}\+([\w-]+)", b"\n".join(_streams(document)))
    return {name.decode() for name in names}


def _streams(document: bytes) -> list[bytes]:
    """The PDF itself and each of its compressed streams, decompressed."""
    parts = [document]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", document, re.S):
        try:
            parts.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return parts


def _client(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def test_staff_get_the_invoice_as_a_pdf_in_the_shipped_latin_and_arabic_fonts():
    invoice = InvoiceFactory()

    response = _client(roles.ACCOUNTANT).get(reverse("invoicing:invoice_pdf", args=[invoice.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    assert response.content.startswith(b"%PDF-")
    # The Arabic labels are set in the shipped Naskh, the rest in Noto Sans: both embedded.
    # (embedded under the family names fonts.css gives them).
    assert {"Invoice-Sans", "Invoice-Sans-Bold", "Invoice-Naskh"} <= _fonts(response.content)


def test_the_customer_link_gives_the_pdf_and_refuses_a_forged_or_void_one():
    invoice = InvoiceFactory()
    token = signing.dumps(invoice.pk, salt=SHARE_SALT)
    url = reverse("invoicing:invoice_shared_pdf", args=[token])

    ok = Client().get(url)
    forged = Client().get(url.replace(":", "x", 1))
    page = Client().get(reverse("invoicing:invoice_shared", args=[token]))
    invoice_void(invoice=invoice, reason="Wrong car", user=None)
    gone = Client().get(url)

    assert (ok.status_code, ok.content[:5]) == (200, b"%PDF-")
    assert forged.status_code == 404
    assert f'href="{url}" data-testid="download-pdf"' in page.text
    assert gone.status_code == 410


def test_the_pdf_never_fetches_anything_but_static_files():
    fetcher = pdf._fetcher()
    for url in (
        "https://invoice.pdf.invalid/media/receipt.png",
        "https://example.com/static/css/print.css",
        "file:///etc/passwd",
        "https://invoice.pdf.invalid/static/../config/settings.py",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    css = fetcher.fetch("https://invoice.pdf.invalid/static/css/print.css")
    assert css.headers["Content-Type"] == "text/css"
    assert b"@page { size: A4" in css.read()


def test_the_customer_email_carries_the_pdf():
    invoice = InvoiceFactory()

    response = _client(roles.ADVISOR).post(reverse("invoicing:invoice_send", args=[invoice.pk]))

    assert response.status_code == 302
    [(name, content, kind)] = mail.outbox[0].attachments
    assert (name, kind, content[:5]) == (f"{invoice.number}.pdf", "application/pdf", b"%PDF-")


def test_without_pango_the_page_says_so_and_the_email_still_goes(monkeypatch):
    def unavailable() -> None:
        raise pdf.PdfUnavailable("libpango-1.0-0: cannot open shared object file")

    monkeypatch.setattr(pdf, "_weasyprint", unavailable)
    invoice = InvoiceFactory()
    advisor = _client(roles.ADVISOR)

    page = advisor.get(reverse("invoicing:invoice_pdf", args=[invoice.pk]))
    advisor.post(reverse("invoicing:invoice_send", args=[invoice.pk]))

    assert page.status_code == 503
    assert "use Print instead" in page.text
    assert len(mail.outbox) == 1
    assert mail.outbox[0].attachments == []


def test_send_on_whatsapp_opens_the_customers_chat_with_a_bilingual_message_and_the_link():
    invoice = InvoiceFactory()
    page = _client(roles.ADVISOR).get(reverse("invoicing:invoice_detail", args=[invoice.pk]))

    href = re.search(r'href="(https://wa\.me/[^"]+)"[^>]*data-testid="send-whatsapp"', page.text)[1]
    parts = urlsplit(href.replace("&amp;", "&"))
    text = parse_qs(parts.query)["text"][0]
    english, arabic = text.split("\n\n")
    digits = invoice.customer_phone.lstrip("+")
    link = re.search(r"(http://testserver/invoices/shared/\S+/)$", english)[1]

    assert parts.path == f"/{digits}"
    assert english == f"Your invoice {invoice.number} from Garage Demo Workshop, 276.00 SAR: {link}"
    assert arabic.startswith(f"فاتورتك {invoice.number}")
    assert arabic.endswith(link)
    assert Client().get(link).status_code == 200


def test_whatsapp_is_not_offered_for_a_void_or_qoyod_managed_invoice():
    void = InvoiceFactory()
    invoice_void(invoice=void, reason="Wrong car", user=None)
    managed = InvoiceFactory()
    type(managed).objects.filter(pk=managed.pk).update(qoyod_managed=True)
    advisor = _client(roles.ADVISOR)

    for invoice in (void, managed):
        page = advisor.get(reverse("invoicing:invoice_detail", args=[invoice.pk]))
        assert 'data-testid="send-whatsapp"' not in page.text


def test_the_pdf_of_a_qoyod_managed_invoice_is_titled_a_job_summary():
    invoice = InvoiceFactory(requires_qoyod=True)

    document = (
        _client(roles.ACCOUNTANT).get(reverse("invoicing:invoice_pdf", args=[invoice.pk])).content
    )

    # WeasyPrint writes the page's <title> (the document's) and its headings (the bookmarks)
    # as UTF-16 in hex.
    titles = re.findall(rb"/Title <feff([0-9a-f]+)>", b"\n".join(_streams(document)))
    assert {bytes.fromhex(t.decode()).decode("utf-16-be") for t in titles} == {
        f"Job summary {invoice.number} · Garage Demo Workshop",
        "Job Summaryملخص أمر العمل",
        "Vehicleالمركبة",
        "Customerالعميل",
    }
