"""On an Arabic page the plate, a signed quantity and a date keep their left-to-right order as
drawn: measured on the rendered glyphs (bounding boxes of text ranges), not read from the HTML."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from core import roles
from garage.models import StockMovement
from tests.factories import (
    BranchFactory,
    JobCardFactory,
    PartLineFactory,
    PartStockFactory,
    UserFactory,
    VehicleFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The left edges of two pieces of the first text node whose whole text is `text`.
LEFT_EDGES = """
([text, first, second]) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.data.trim() !== text) continue;
    const start = node.data.indexOf(text);
    const left = (piece) => {
      const at = start + text.indexOf(piece);
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + piece.length);
      return range.getBoundingClientRect().left;
    };
    return [left(first), left(second)];
  }
  return null;
}
"""


@pytest.fixture
def job():
    # Migrations create the groups; a transactional test may start after another one's flush.
    roles.roles_sync(apps, strict=True)
    branch = BranchFactory(code="RUH", name_en="Riyadh Olaya", name_ar="الرياض العليا")
    vehicle = VehicleFactory(plate_number="5678 DRS", make="Hyundai", model="Elantra", year=2019)
    job = JobCardFactory(branch=branch, customer=vehicle.customer, vehicle=vehicle)
    stock = PartStockFactory(branch=branch, quantity=Decimal("2E+1"))
    PartLineFactory(job=job, spare_part=stock.part, quantity=Decimal("1"))
    StockMovement.objects.create(
        part=stock.part, branch=branch, quantity=Decimal("-1"), job=job, reason="فاتورة"
    )
    UserFactory(username="owner", role=roles.ADMIN)
    return job


def _log_in_in_arabic(page: Page) -> None:
    page.goto("/login/")
    page.get_by_test_id("lang-ar").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.fill("#id_username", "owner")
    page.fill("#id_password", "demo12345")
    page.press("#id_password", "Enter")
    expect(page).to_have_url(re.compile(r":\d+/$"))


def _left_edges(page: Page, text: str, first: str, second: str) -> tuple[float, float]:
    edges = page.evaluate(LEFT_EDGES, [text, first, second])
    assert edges is not None, f"{text!r} is not on the page"
    return edges[0], edges[1]


def test_plate_sign_and_date_read_left_to_right_on_arabic_pages(page: Page, job, screenshot):
    _log_in_in_arabic(page)

    page.goto(f"/jobs/{job.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    screenshot(page, "job-ar")
    digits, letters = _left_edges(page, "5678 DRS", "5678", "DRS")
    opened = page.locator("dd").filter(has_text=re.compile(r"^\d\d/\d\d/\d{4} \d\d:\d\d$"))
    when = opened.first.inner_text()
    day, time = when.split(" ")
    date_left, time_left = _left_edges(page, when, day, time)

    page.goto(f"/parts/{job.lines.get().spare_part_id}/")
    screenshot(page, "part-ar")
    minus, one = _left_edges(page, "-1", "-", "1")
    stock = page.get_by_role("cell", name="20", exact=True)

    assert digits < letters
    assert date_left < time_left
    assert minus < one
    expect(stock.first).to_be_visible()
    assert "E+" not in page.content()
