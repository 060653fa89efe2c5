"""In the browser, under the real Content-Security-Policy: the main pages in English and Arabic
load, run their htmx requests and show no CSP or Permissions-Policy complaint nor script error;
the behaviours moved out of inline code (confirm before deleting a Qoyod draft, Print) work.

The `page` fixture fails any test on a policy message (tests/e2e/conftest.py); this test visits
every main page so that holds for each of them.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from playwright.sync_api import Dialog, Page, expect

from core import roles
from invoicing.services import invoice_void_and_reissue
from qoyod_sync.models import QoyodInvoiceSync, SyncState
from tests.factories import BranchFactory, JobCardFactory, ServiceLineFactory, UserFactory
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory
from tests.qoyod_sync.refresh_helpers import connect, managed_invoice, qoyod_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def garage(qoyod_sandbox) -> dict[str, str]:
    """A job in progress, one to invoice, a sent invoice, a failed one and a voided draft."""
    roles.roles_sync(apps, strict=True)
    UserFactory(username="admin", first_name="Huda", role=roles.ADMIN)
    connect(qoyod_sandbox)
    branch = BranchFactory(code="RUH")
    job = JobCardFactory(branch=branch, customer__name_en="Mohammed Al-Shehri")
    ServiceLineFactory(job=job)
    CompletedJobFactory(branch=branch)
    sent = managed_invoice(qoyod_sandbox)
    failed = InvoiceFactory(requires_qoyod=True)
    QoyodInvoiceSync.objects.create(
        invoice=failed,
        state=SyncState.FAILED,
        reason_code="legacy",
        reason_params={"text": "Qoyod refused the customer.\nFix the VAT number."},
    )
    voided = managed_invoice(qoyod_sandbox)
    invoice_void_and_reissue(invoice=voided, reason="Wrong plate", user=None)
    return {
        "job": f"/jobs/{job.pk}/",
        "invoice": f"/invoices/{sent.pk}/",
        "voided": f"/invoices/{voided.pk}/",
        "voided_qoyod_id": str(qoyod_id(voided)),
    }


MAIN_PAGES = (
    "/",
    "/jobs/",
    "{job}",
    "/invoices/",
    "/invoices/needs-invoice/",
    "{invoice}",
    "{invoice}edit/",
    "{invoice}print/",
    "/customers/",
    "/qoyod/settings/",
    "/qoyod/retry-queue/",
)


def _visit(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    # htmx's load-triggered requests (the Needs Invoice badge, stale refreshes) swap in too.
    page.wait_for_load_state("networkidle")


def test_the_main_pages_in_both_languages_break_no_policy(page: Page, garage, screenshot):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))

    _visit(page, "/login/")
    page.get_by_test_id("lang-ar").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.get_by_test_id("lang-en").click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo12345")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r":\d+/$"))

    for language in ("en", "ar"):
        for path in MAIN_PAGES:
            _visit(page, path.format(**garage))
            expect(page.locator("html")).to_have_attribute(
                "lang", "en" if "print" in path else language
            )
        screenshot(page, f"retry-queue-{language}")
        if language == "en":
            page.get_by_test_id("lang-ar").click()
            expect(page.locator("html")).to_have_attribute("dir", "rtl")

    # The stylesheets still apply: a moved style="" rule and Bootstrap's own.
    _visit(page, "/qoyod/retry-queue/")
    expect(page.locator(".text-pre-line").first).to_have_css("white-space", "pre-line")
    expect(page.locator("nav.navbar")).to_have_css("background-color", "rgb(33, 37, 41)")
    assert errors == []


def test_deleting_a_voided_draft_asks_first_and_print_prints(page: Page, garage, qoyod_sandbox):
    page.goto("/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo12345")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r":\d+/$"))
    questions: list[str] = []

    def answer(accept: bool):
        def handle(dialog: Dialog) -> None:
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    draft = int(garage["voided_qoyod_id"])
    page.goto(garage["voided"])
    page.once("dialog", answer(accept=False))
    page.get_by_test_id("qoyod-delete-draft").click()
    expect(page.get_by_test_id("qoyod-delete-draft")).to_be_visible()
    assert draft in qoyod_sandbox.company().invoices

    page.once("dialog", answer(accept=True))
    page.get_by_test_id("qoyod-delete-draft").click()
    expect(page.get_by_test_id("qoyod-delete-draft")).to_have_count(0)
    assert draft not in qoyod_sandbox.company().invoices
    assert questions == ["Delete the old draft in Qoyod? This cannot be undone."] * 2

    page.goto(garage["invoice"] + "print/")
    # Stands in for the browser's print dialog, which headless Chromium cannot show.
    page.evaluate("window.print = () => { window.printed = true; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed") is True
