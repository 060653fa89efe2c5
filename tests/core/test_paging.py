"""Keyset pages (core.paging) on every big list: walking both ways, cursors, the capped count,
and the SQL each page sends (no OFFSET, no COUNT of the whole result)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounting.models import Transaction
from core import paging, roles
from garage.models import Customer, JobCard, Vehicle
from invoicing.models import Invoice
from qoyod_sync import selectors as qoyod_selectors
from qoyod_sync.models import QoyodInvoiceSync, SyncState
from tests.accounting_factories import TransactionFactory
from tests.factories import CustomerFactory, JobCardFactory, UserFactory, VehicleFactory
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory
from tests.pager import pager_count, pager_link

pytestmark = pytest.mark.django_db

WHEN = timezone.make_aware(datetime.datetime(2026, 11, 20, 9, 30))


def _invoices(count: int) -> list[Any]:
    # One job per invoice is what invoice_create allows; all issued on the same day.
    return [InvoiceFactory(issue_date=WHEN.date()) for _ in range(count)]


def _needs(count: int) -> list[Any]:
    jobs = CompletedJobFactory.create_batch(count, lines=False)
    JobCard.objects.filter(pk__in=[j.pk for j in jobs]).update(completed_at=WHEN)
    return jobs


def _jobs(count: int) -> list[Any]:
    jobs = JobCardFactory.create_batch(count)
    JobCard.objects.filter(pk__in=[j.pk for j in jobs]).update(created_at=WHEN)
    return jobs


def _customers(count: int) -> list[Any]:
    return CustomerFactory.create_batch(count, name_en="Same Name", name_ar="نفس الاسم")


def _vehicles(count: int) -> list[Any]:
    return VehicleFactory.create_batch(count)


def _retry_rows(count: int) -> list[Any]:
    return [
        QoyodInvoiceSync.objects.create(
            invoice=invoice, state=SyncState.UNKNOWN, attempts=1, last_attempt_at=WHEN
        )
        for invoice in _invoices(count)
    ]


def _transactions(count: int) -> list[Any]:
    return TransactionFactory.create_batch(count, date=WHEN.date())


@dataclass(frozen=True)
class List:
    url_name: str
    make: Callable[[int], list[Any]]
    # The view module whose PAGE_SIZE sets the rows per page.
    view: str
    # The rows in the list's order: its sort key, equal for every row made, then the id.
    newest_first: bool


LISTS = {
    "invoices": List("invoicing:invoice_list", _invoices, "invoicing.views.lists", True),
    "needs": List("invoicing:needs_invoice", _needs, "invoicing.views.lists", True),
    "jobs": List("garage:job_list", _jobs, "garage.views", True),
    "customers": List("garage:customer_list", _customers, "garage.views", False),
    "vehicles": List("garage:vehicle_list", _vehicles, "garage.views", False),
    "retry": List("qoyod_sync:retry_queue", _retry_rows, "qoyod_sync.views", False),
    "transactions": List("accounting:transaction_list", _transactions, "accounting.views", True),
}


@pytest.fixture
def admin() -> Client:
    client = Client()
    client.force_login(UserFactory(role=roles.ADMIN))
    return client


@pytest.fixture(params=list(LISTS))
def listing(request: pytest.FixtureRequest) -> List:
    return LISTS[request.param]


def _expected(listing: List, rows: list[Any]) -> list[int]:
    if listing.url_name == "garage:vehicle_list":
        # Plates are unique: their order alone, as the database collates them.
        ids = [row.pk for row in rows]
        return list(
            Vehicle.objects.filter(pk__in=ids).order_by("plate_number").values_list("pk", flat=True)
        )
    return sorted((row.pk for row in rows), reverse=listing.newest_first)


def _pks(response: Any) -> list[int]:
    return [row.pk for row in response.context["page"]]


def _small_pages(monkeypatch: pytest.MonkeyPatch, listing: List, size: int) -> None:
    monkeypatch.setattr(f"{listing.view}.PAGE_SIZE", size)


def test_walking_next_then_previous_gives_every_row_once_in_order(admin, listing, monkeypatch):
    _small_pages(monkeypatch, listing, 3)
    expected = _expected(listing, listing.make(8))
    url = reverse(listing.url_name)

    pages = [admin.get(url)]
    while (following := pager_link(pages[-1], "next")) is not None:
        pages.append(admin.get(url + following))
    back = [pages[-1]]
    while (preceding := pager_link(back[-1], "prev")) is not None:
        back.append(admin.get(url + preceding))

    assert [_pks(page) for page in pages] == [expected[0:3], expected[3:6], expected[6:8]]
    assert [_pks(page) for page in back] == [expected[6:8], expected[3:6], expected[0:3]]
    assert [pager_count(page) for page in pages] == ["1–3 of 8", "4–6 of 8", "7–8 of 8"]
    assert [pager_count(page) for page in back] == ["7–8 of 8", "4–6 of 8", "1–3 of 8"]


def test_a_deep_page_sends_no_offset_and_no_unbounded_count(admin, listing, monkeypatch):
    _small_pages(monkeypatch, listing, 2)
    listing.make(5)
    url = reverse(listing.url_name)
    second = pager_link(admin.get(url), "next")
    assert second is not None

    with CaptureQueriesContext(connection) as captured:
        response = admin.get(url + second)

    assert response.status_code == 200
    sqls = [query["sql"].upper() for query in captured.captured_queries]
    assert [sql for sql in sqls if "OFFSET" in sql] == []
    assert [sql for sql in sqls if "COUNT(" in sql and "LIMIT" not in sql] == []


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "", "x" * 500, signing.dumps({"d": "a"}, salt="core.paging")],
    ids=["garbage", "empty", "long", "signed-but-wrong"],
)
def test_a_garbage_cursor_gives_the_first_page(admin, listing, monkeypatch, cursor):
    _small_pages(monkeypatch, listing, 3)
    expected = _expected(listing, listing.make(4))

    response = admin.get(reverse(listing.url_name), {"cursor": cursor})

    assert response.status_code == 200
    assert _pks(response) == expected[:3]


def test_a_tampered_cursor_gives_the_first_page(admin, listing, monkeypatch):
    _small_pages(monkeypatch, listing, 3)
    expected = _expected(listing, listing.make(4))
    url = reverse(listing.url_name)
    following = pager_link(admin.get(url), "next")
    assert following is not None
    token = parse_qs(following.lstrip("?"))["cursor"][0]
    # Another row's values under the original signature.
    payload, signature = token.rsplit(":", 1)
    tampered = f"{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}:{signature}"

    response = admin.get(url, {"cursor": tampered})

    assert response.status_code == 200
    assert _pks(response) == expected[:3]


def test_a_cursor_from_another_list_gives_the_first_page(admin, monkeypatch):
    monkeypatch.setattr("garage.views.PAGE_SIZE", 1)
    _customers(2)
    jobs = _expected(LISTS["jobs"], _jobs(2))
    from_customers = pager_link(admin.get(reverse("garage:customer_list")), "next")
    assert from_customers is not None

    response = admin.get(reverse("garage:job_list") + from_customers)

    assert _pks(response) == jobs[:1]


def test_the_count_stops_at_the_cap(admin, listing, monkeypatch):
    _small_pages(monkeypatch, listing, 3)
    monkeypatch.setattr(paging, "COUNT_CAP", 4)
    # The retry queue is counted as the menu's badge counts it.
    monkeypatch.setattr(qoyod_selectors, "QUEUE_CAP", 4)
    listing.make(6)
    url = reverse(listing.url_name)

    first = admin.get(url)
    second = admin.get(url + (pager_link(first, "next") or ""))

    assert pager_count(first) == "1–3 of 4+"
    assert pager_count(second) == "4–6 of 4+"


def test_the_retry_queue_is_counted_to_its_badges_cap_not_the_pagers(admin, monkeypatch):
    _small_pages(monkeypatch, LISTS["retry"], 3)
    monkeypatch.setattr(qoyod_selectors, "QUEUE_CAP", 4)
    _retry_rows(6)

    page = admin.get(reverse("qoyod_sync:retry_queue"))

    assert pager_count(page) == "1–3 of 4+"
    assert page.context["page"].total_capped is True
    assert paging.total_text(5, cap=4) == "4+"
    assert paging.total_text(4, cap=4) == "4"


def test_the_count_groups_thousands_in_both_languages():
    assert [paging.total_text(n) for n in (0, 999, 1234, 10_000, 10_001)] == [
        "0",
        "999",
        "1,234",
        "10,000",
        "10,000+",
    ]


def test_query_count_is_the_same_for_1_and_50_rows(admin, listing):
    url = reverse(listing.url_name)
    listing.make(1)
    admin.get(url)  # warm caches (content types, session) outside the measurement
    with CaptureQueriesContext(connection) as one:
        admin.get(url)
    listing.make(49)
    with CaptureQueriesContext(connection) as fifty:
        response = admin.get(url)
    # And on a page reached by its cursor.
    following = pager_link(response, "next")
    with CaptureQueriesContext(connection) as deep:
        admin.get(url + following) if following else admin.get(url)

    assert following is not None or len(response.context["page"]) == 50
    assert len(fifty.captured_queries) == len(one.captured_queries)
    assert len(deep.captured_queries) == len(one.captured_queries)


def test_invoice_pages_keep_the_search_and_the_filters(admin, monkeypatch):
    monkeypatch.setattr("invoicing.views.lists.PAGE_SIZE", 1)
    wanted = _invoices(3)
    for invoice in wanted:
        Invoice.objects.filter(pk=invoice.pk).update(customer_name="Fleet Co")
    Invoice.objects.filter(pk=wanted[0].pk).update(customer_name="Fleet Co", status="paid")
    _invoices(2)  # other customers
    url = reverse("invoicing:invoice_list")

    first = admin.get(url, {"q": "Fleet", "status": "issued"})
    following = pager_link(first, "next")
    assert following is not None
    second = admin.get(url + following)
    back = pager_link(second, "prev")

    assert following.startswith("?q=Fleet&status=issued&cursor=")
    assert back is not None and back.startswith("?q=Fleet&status=issued&cursor=")
    assert _pks(first) + _pks(second) == [wanted[2].pk, wanted[1].pk]
    assert (pager_count(first), pager_count(second)) == ("1–1 of 2", "2–2 of 2")


def test_needs_invoice_pages_keep_the_search(admin, monkeypatch):
    monkeypatch.setattr("invoicing.views.lists.PAGE_SIZE", 1)
    fleet = CustomerFactory(name_en="Fleet Co")
    jobs = CompletedJobFactory.create_batch(2, lines=False, customer=fleet)
    _needs(2)
    url = reverse("invoicing:needs_invoice")

    first = admin.get(url, {"q": "Fleet"})
    following = pager_link(first, "next")
    assert following is not None and following.startswith("?q=Fleet&cursor=")
    second = admin.get(url + following)

    assert _pks(first) + _pks(second) == [jobs[1].pk, jobs[0].pk]
    assert pager_link(second, "next") is None


def test_the_needs_invoice_badge_is_the_pages_capped_count(admin, monkeypatch):
    monkeypatch.setattr("invoicing.views.lists.BADGE_LIMIT", 3)
    _needs(4)

    response = admin.get(reverse("invoicing:needs_invoice"))

    assert (response.context["needs_count"], response.context["needs_capped"]) == (3, True)
    assert '<span class="badge rounded-pill text-bg-warning ms-1" data-testid="needs-count">3+' in (
        response.text
    )


def test_the_job_list_counts_lines_of_its_page_only(admin, monkeypatch):
    monkeypatch.setattr("garage.views.PAGE_SIZE", 1)
    _jobs(3)

    with CaptureQueriesContext(connection) as captured:
        admin.get(reverse("garage:job_list"))

    # The line count is a subquery of the page's SELECT (evaluated after its LIMIT), never of
    # the count or a GROUP BY over every job.
    sqls = [q["sql"] for q in captured.captured_queries if "garage_jobline" in q["sql"]]
    assert len(sqls) == 1
    assert "LIMIT 2" in sqls[0] and "GROUP BY" not in sqls[0].split("FROM", 2)[-1]


def test_an_empty_list_has_no_pager(admin, listing):
    response = admin.get(reverse(listing.url_name))

    assert response.status_code == 200
    assert 'data-testid="pager"' not in response.text


def test_the_arabic_pager_reads_right_to_left(admin, monkeypatch):
    monkeypatch.setattr("garage.views.PAGE_SIZE", 1)
    _customers(3)
    url = reverse("garage:customer_list")
    following = pager_link(admin.get(url), "next")
    admin.cookies["django_language"] = "ar"

    response = admin.get(url + (following or ""))

    # The arrows are mirrored characters: in a right-to-left line each points its own way.
    assert '<html lang="ar" dir="rtl">' in response.text
    assert "‹ السابقة" in response.text and "التالية ›" in response.text
    assert pager_count(response) == "2–2 من 3"


def test_models_have_an_index_for_each_keyset():
    def indexed(model: Any, fields: list[str]) -> bool:
        return any(list(index.fields) == fields for index in model._meta.indexes)

    assert indexed(Invoice, ["-issue_date", "-id"])
    assert indexed(JobCard, ["-created_at", "-id"])
    assert indexed(JobCard, ["-completed_at", "-id"])
    assert indexed(Customer, ["name_en", "name_ar", "id"])
    assert Vehicle._meta.get_field("plate_number").unique
    assert indexed(QoyodInvoiceSync, ["last_attempt_at", "id"])
    assert indexed(Transaction, ["-date", "-id"])


def test_going_back_after_rows_were_deleted_gives_a_full_first_page(admin, monkeypatch):
    monkeypatch.setattr("garage.views.PAGE_SIZE", 3)
    ids = _expected(LISTS["customers"], _customers(7))
    url = reverse("garage:customer_list")
    second = admin.get(url + (pager_link(admin.get(url), "next") or ""))
    Customer.objects.filter(pk=ids[0]).delete()

    back = admin.get(url + (pager_link(second, "prev") or ""))

    assert _pks(back) == ids[1:4]
    assert pager_link(back, "prev") is None
    assert pager_count(back) == "1–3 of 6"


def test_a_cursor_past_the_end_of_a_shrunk_list_gives_the_first_page(admin, monkeypatch):
    monkeypatch.setattr("garage.views.PAGE_SIZE", 3)
    ids = _expected(LISTS["customers"], _customers(4))
    url = reverse("garage:customer_list")
    following = pager_link(admin.get(url), "next")
    Customer.objects.filter(pk=ids[3]).delete()

    response = admin.get(url + (following or ""))

    assert _pks(response) == ids[:3]
    assert pager_link(response, "next") is None
