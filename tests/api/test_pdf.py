"""The invoice statement PDF through the API: the renderer staff use, errors in the API's shape."""

from __future__ import annotations

import pytest

from invoicing import pdf
from tests.api.conftest import caller
from tests.factories import BranchFactory
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def test_the_pdf_is_the_invoice_statement(api):
    invoice = InvoiceFactory()

    response = api.get(f"/api/v1/invoices/{invoice.number}/pdf/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    assert response.content[:5] == b"%PDF-"


def test_another_branchs_pdf_is_a_json_404_even_when_a_pdf_was_asked_for(make_client):
    other = InvoiceFactory(job=CompletedJobFactory(branch=BranchFactory()))
    api = caller(make_client(branch=BranchFactory())[1])

    response = api.get(f"/api/v1/invoices/{other.number}/pdf/", HTTP_ACCEPT="application/pdf")

    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json()["code"] == "not_found"


def test_without_pango_the_answer_is_503_in_the_api_error_shape(api, monkeypatch):
    def unavailable() -> None:
        raise pdf.PdfUnavailable("libpango-1.0-0: cannot open shared object file")

    monkeypatch.setattr(pdf, "_weasyprint", unavailable)
    invoice = InvoiceFactory()

    response = api.get(f"/api/v1/invoices/{invoice.number}/pdf/")

    assert response.status_code == 503
    assert response.json() == {
        "type": "server_error",
        "code": "pdf_unavailable",
        "detail": "PDFs cannot be made on this server (Pango is not installed).",
        "errors": {},
    }
