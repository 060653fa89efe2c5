"""Layout in a browser: the invoice page's title line, a failure reason in a popover, the
confirmation before a job is cancelled, and the login page's demo users."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from core import roles
from garage.models import JobCard
from qoyod_sync.models import FailureKind, QoyodInvoiceSync, SyncState
from tests.factories import JobCardFactory, UserFactory
from tests.invoicing_factories import InvoiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo12345")
    page.press("#id_password", "Enter")
    expect(page).to_have_url(re.compile(r":\d+/$"))


def _failed(invoice) -> QoyodInvoiceSync:
    return QoyodInvoiceSync.objects.create(
        invoice=invoice,
        state=SyncState.FAILED,
        failure_kind=FailureKind.CUSTOMER_INCOMPLETE,
        reason_code="qoyod.error.rejected",
        reason_params={"status": 422},
        qoyod_message="Contact tax number must be 15 digits starting and ending with 3",
    )


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_invoice_title_line_keeps_its_actions_together_with_the_badges_below(
    page: Page, screenshot, language
):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="accountant", role=roles.ACCOUNTANT)
    invoice = InvoiceFactory(requires_qoyod=True)
    _failed(invoice)
    _log_in(page, "accountant")
    if language == "ar":
        page.get_by_test_id("lang-ar").click()
    page.goto(f"/invoices/{invoice.pk}/")

    actions = page.get_by_test_id("invoice-actions")
    buttons = [
        actions.locator("a, button").nth(i) for i in range(actions.locator("a, button").count())
    ]
    tops = {round(button.bounding_box()["y"]) for button in buttons}
    title = page.get_by_test_id("invoice-title").bounding_box()
    badges = page.get_by_test_id("invoice-badges").bounding_box()
    screenshot(page, f"invoice-{language}")

    assert len(buttons) >= 3  # Edit, Print, Void… at least
    assert len(tops) == 1, tops
    assert badges["y"] >= title["y"] + title["height"]


def test_a_failure_reason_opens_whole_in_a_popover_from_the_invoice_row(page: Page, screenshot):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="accountant", role=roles.ACCOUNTANT)
    invoice = InvoiceFactory(requires_qoyod=True)
    _failed(invoice)
    _log_in(page, "accountant")
    page.goto("/invoices/")
    row = page.locator(f"#invoice-row-{invoice.pk}")

    row.get_by_test_id("qoyod-reason").click()

    popover = page.locator(".popover")
    expect(popover).to_be_visible()
    expect(popover).to_contain_text(
        "Qoyod rejected the request (HTTP 422) — Qoyod's message: “Contact tax number must be "
        "15 digits starting and ending with 3”"
    )
    screenshot(page, "reason-popover")


@pytest.mark.parametrize("accept", [False, True])
def test_cancelling_a_job_asks_first(page: Page, accept):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="advisor", role=roles.ADVISOR)
    job = JobCardFactory()
    _log_in(page, "advisor")
    page.goto(f"/jobs/{job.pk}/")
    questions: list[str] = []

    def answer(dialog) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.on("dialog", answer)
    page.get_by_role("button", name="Cancel job").click()

    assert questions == ["Cancel this job? It cannot be reopened."]
    if accept:
        expect(page.get_by_test_id("job-status")).to_contain_text("Cancelled")
        assert JobCard.objects.get(pk=job.pk).status == JobCard.Status.CANCELLED
    else:
        expect(page.get_by_role("button", name="Cancel job")).to_be_visible()
        assert JobCard.objects.get(pk=job.pk).status == JobCard.Status.OPEN


def test_a_demo_user_on_the_login_page_fills_the_form(page: Page, screenshot, settings):
    settings.SHOW_DEMO_LOGINS = True
    roles.roles_sync(apps, strict=True)
    UserFactory(username="technician", role=roles.TECHNICIAN)
    page.goto("/login/")
    screenshot(page, "login")

    page.get_by_test_id("demo-login-technician").click()

    expect(page.locator("#id_username")).to_have_value("technician")
    page.press("#id_password", "Enter")
    expect(page).to_have_url(re.compile(r":\d+/$"))
    expect(page.get_by_test_id("user-menu")).to_be_visible()
