"""A tenant that ignores q[tax_number_eq], q[primary_contact_number_cont] or q[sku_in][] (none is
in the published YAML; qoyod-api.md §9.3) answers with its whole list: the lookups of a send stop
after the first page that shows the filter was ignored, instead of walking every customer or
product (issue 11 item 7)."""

from __future__ import annotations

import httpx

from tests.qoyod_sync.test_client_requests import Recorder, customer, pages_of

PAGES = 30


def _customers() -> list[dict[str, object]]:
    rows = [customer(i) for i in range(1, PAGES * 100 + 1)]
    # The one we want is on the last page, where a capped walk does not look.
    rows[-1].update(tax_number="300000000000003", phone_number="+966501112222", name="Wanted")
    return rows


def _products() -> list[dict[str, object]]:
    return [
        {"id": i, "sku": f"SKU-{i}", "name_ar": "سلعة", "name_en": f"Thing {i}", "type": "Product",
         "track_quantity": 0, "inventories": []}
        for i in range(1, PAGES * 100 + 1)
    ]  # fmt: skip


def test_ignored_tax_number_filter_reads_one_page_not_the_whole_list() -> None:
    recorder = Recorder(pages_of(_customers()))

    assert recorder.reader().find_customers_by_tax_number("300000000000003") == []
    assert len(recorder.seen) == 1


def test_ignored_phone_filter_reads_one_page_not_the_whole_list() -> None:
    recorder = Recorder(pages_of(_customers()))

    assert recorder.reader().find_customers_by_phone("0501112222") == []
    assert len(recorder.seen) == 1


def test_ignored_sku_filter_reads_one_page_per_batch_not_the_whole_catalogue() -> None:
    recorder = Recorder(pages_of(_products(), root="products"))

    found = recorder.reader().find_products_by_skus(["SKU-2", "SKU-2999"])

    # What the first page shows is still used; the rest is left to the stored links and to
    # Qoyod's unique SKU on create.
    assert list(found) == ["SKU-2"]
    assert len(recorder.seen) == 1


def test_honoured_filter_still_reads_every_page_of_matches() -> None:
    rows = [customer(i) | {"tax_number": "300000000000003"} for i in range(1, 151)]
    recorder = Recorder(pages_of(rows))

    assert len(recorder.reader().find_customers_by_tax_number("300000000000003")) == 150
    assert len(recorder.seen) == 2


def test_exact_name_lookup_keeps_only_the_exact_name() -> None:
    rows = [customer(1) | {"name": "Majed"}, customer(2) | {"name": "majed "},
            customer(3) | {"name": "Majed Trading"}]  # fmt: skip

    def respond(request: httpx.Request) -> httpx.Response:
        assert request.url.params["q[contact_name_cont]"] == "Majed"
        return httpx.Response(200, json={"customers": rows})

    found = Recorder(respond).reader().find_customers_by_name(" Majed ")

    assert [c.id for c in found] == [1, 2]
