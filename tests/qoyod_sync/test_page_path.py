"""The next= of a row's buttons names the page the user is on, even when htmx drew the row."""

from __future__ import annotations

from django.test import RequestFactory

from qoyod_sync.templatetags.qoyod_tags import page_path


def test_a_plain_request_is_its_own_page():
    request = RequestFactory().get("/invoices/?q=ABJ")
    assert page_path(request) == "/invoices/?q=ABJ"


def test_an_htmx_request_takes_the_page_from_hx_current_url():
    request = RequestFactory().post(
        "/qoyod/invoices/5/send/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/invoices/?page=2"},
    )
    assert page_path(request) == "/invoices/?page=2"


def test_an_htmx_request_from_another_host_falls_back_to_the_invoice_list():
    request = RequestFactory().post(
        "/qoyod/invoices/5/send/",
        headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/invoices/"},
    )
    assert page_path(request) == "/invoices/"


def test_an_htmx_request_without_hx_current_url_falls_back_to_the_invoice_list():
    request = RequestFactory().post("/qoyod/invoices/5/send/", headers={"HX-Request": "true"})
    assert page_path(request) == "/invoices/"
