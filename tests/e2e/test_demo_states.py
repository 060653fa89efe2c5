"""The demo in the browser: after `seed_demo --sandbox-state` (as `make run` runs it), the
invoice list shows every state an invoice can be in, in English and in Arabic."""

from __future__ import annotations

import io
import re
import socket

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QOYOD_STANDINGS = {"draft", "awaiting_approval", "approved", "partially_paid", "paid", "deleted"}
SYNC_STATES = {"ready", "failed", "unknown", "not_required", "draft_created"}


@pytest.fixture
def demo(settings, tmp_path):
    settings.DEBUG = True
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.QOYOD_SANDBOX_URL = f"http://127.0.0.1:{port}/2.0"
    call_command(
        "seed_demo", "--sandbox-state", str(tmp_path / "sandbox.json"), stdout=io.StringIO()
    )


def _log_in(page: Page) -> None:
    page.goto("/login/")
    page.fill("#id_username", "accountant")
    page.fill("#id_password", "demo12345")
    page.locator("form:has(#id_username) button[type=submit]").click()
    expect(page).to_have_url(re.compile(r":\d+/$"))


def _states(page: Page) -> tuple[set[str], set[str], str]:
    standings, states, text = set(), set(), ""
    page.goto("/invoices/")
    for turn in range(2):
        if turn:
            page.locator("a[rel=next]").first.click()
            page.wait_for_load_state()
        standings |= set(page.locator("[data-qoyod-standing]").evaluate_all(
            "els => els.map(e => e.dataset.qoyodStanding)"))  # fmt: skip
        states |= set(page.get_by_test_id("qoyod-cell").evaluate_all(
            "els => els.map(e => e.dataset.state)"))  # fmt: skip
        text += page.locator("table").inner_text()
    return standings, states, text


def test_the_demo_list_shows_every_invoice_state(demo, page, screenshot):
    _log_in(page)

    standings, states, text = _states(page)

    assert standings == QOYOD_STANDINGS
    assert states == SYNC_STATES
    for words in ("Processed · ERP-", "Finance failed", "Void", "Partially paid", "Paid"):
        assert words in text
    page.goto("/invoices/")
    screenshot(page, "en")


def test_the_demo_list_in_arabic(demo, page, screenshot):
    _log_in(page)
    page.context.add_cookies([{"name": "django_language", "value": "ar", "url": page.url}])

    standings, states, text = _states(page)

    assert standings == QOYOD_STANDINGS and states == SYNC_STATES
    assert "في قيود: بانتظار الاعتماد" in text and "قد تكون موجودة في قيود" in text
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.goto("/invoices/")
    screenshot(page, "ar")
