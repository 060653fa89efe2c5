"""The list pager in a browser: Next keeps the filter, and in Arabic the links and their arrows
run right to left (Previous on the right, its arrow pointing right)."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from core import roles
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The left edges of an element's first character and of the first letter after its space.
EDGES = """
(element) => {
  const node = element.firstChild;
  const edge = (at) => {
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + 1);
    return range.getBoundingClientRect().left;
  };
  return [edge(0), edge(node.data.indexOf(" ") + 1)];
}
"""


def _log_in(page: Page) -> None:
    page.goto("/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", "demo12345")
    page.press("#id_password", "Enter")
    expect(page).to_have_url(re.compile(r":\d+/$"))


def test_invoice_pager_keeps_the_filter_and_reads_right_to_left_in_arabic(
    page: Page, screenshot, monkeypatch, live_server
):
    monkeypatch.setattr("invoicing.views.lists.PAGE_SIZE", 2)
    roles.roles_sync(apps, strict=True)
    UserFactory(username="owner", role=roles.ADMIN)
    InvoiceFactory.create_batch(5)
    _log_in(page)

    page.goto("/invoices/?status=issued")
    page.get_by_role("link", name="Next ›").click()
    expect(page).to_have_url(re.compile(r"\?status=issued&cursor="))
    expect(page.get_by_test_id("pager-count")).to_have_text("3–4 of 5")
    screenshot(page, "invoices-en")
    previous = page.get_by_role("link", name="‹ Previous")
    following = page.get_by_role("link", name="Next ›")
    english = (previous.bounding_box(), following.bounding_box())

    page.context.add_cookies([{"name": "django_language", "value": "ar", "url": live_server.url}])
    page.reload()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("pager-count")).to_have_text("3–4 من 5")
    screenshot(page, "invoices-ar")
    previous = page.get_by_role("link", name="السابقة")
    following = page.get_by_role("link", name="التالية")
    arabic = (previous.bounding_box(), following.bounding_box())
    # The arrow, first in the link's text, is drawn at its outer edge, right of the word's
    # first letter, and mirrored (a mirrored character) to point right.
    arrow, word = previous.evaluate(EDGES)

    assert english[0] and english[1] and arabic[0] and arabic[1]
    assert english[0]["x"] < english[1]["x"]
    assert arabic[0]["x"] > arabic[1]["x"]
    assert arrow > word
