"""The finance API's docs page in a browser: Swagger UI from the vendored files draws every
group of operations from the schema, within the content security policy (the page fixture
fails on a violation)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_draw_the_operations_and_their_schemas(page: Page, screenshot):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto("/api/docs/")

    queue = page.locator("#operations-invoices-invoices_unprocessed_list")
    expect(queue).to_be_visible()
    for tag in ("customers", "invoices", "sales", "webhooks"):
        expect(page.locator(f"#operations-tag-{tag}")).to_be_visible()
    queue.locator(".opblock-summary").click()
    expect(queue.get_by_text("Unprocessed invoices")).to_be_visible()
    expect(
        queue.get_by_text("an item leaves the queue once reported processed or failed", exact=False)
    ).to_be_visible()
    screenshot(page, "0-docs")
    origin = page.url.split("/api/")[0]
    assert [url for url in requested if not url.startswith(origin)] == []
