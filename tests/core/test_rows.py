"""rows_together: several querysets' rows in one query, as if each had been read alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.rows import prefetched, rows_together
from invoicing.models import InvoiceEvent, InvoiceLine, InvoiceStatusChange
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory

pytestmark = pytest.mark.django_db


def _fields(row) -> dict:
    return {f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields}


def test_each_list_comes_back_as_it_would_alone_in_one_query(django_assert_num_queries):
    user = UserFactory(first_name="Huda")
    invoice = InvoiceFactory()
    other = InvoiceFactory()
    InvoiceStatusChange.objects.create(invoice=invoice, to_status="issued", changed_by=user,
                                       note_code="x.y", note_params={"n": 1})  # fmt: skip
    InvoiceStatusChange.objects.create(invoice=invoice, from_status="issued", to_status="paid")
    InvoiceStatusChange.objects.create(invoice=other, to_status="issued")
    InvoiceEvent.objects.create(invoice=invoice, kind="emailed", details={"recipient": "a@b.sa"})
    querysets = [
        InvoiceStatusChange.objects.filter(invoice=invoice).select_related("changed_by"),
        invoice.events.all(),
        invoice.lines.select_related("service_item", "spare_part").order_by("-position", "id"),
        InvoiceEvent.objects.filter(invoice=other),
    ]
    alone = [list(queryset) for queryset in querysets]

    with django_assert_num_queries(1):
        together = rows_together(querysets)
        users = [row.changed_by for row in together[0]]
        items = [(line.service_item, line.spare_part) for line in together[2]]

    assert [[_fields(row) for row in rows] for rows in together] == [
        [_fields(row) for row in rows] for rows in alone
    ]
    assert [type(row) for rows in together for row in rows] == [
        type(row) for rows in alone for row in rows
    ]
    assert users == [row.changed_by for row in alone[0]]
    assert [u.first_name for u in users if u == user] == ["Huda"]
    assert users.count(None) == len(users) - 1
    assert items == [(line.service_item, line.spare_part) for line in alone[2]]
    assert len(together[2]) == invoice.lines.count() > 1
    assert {type(line.quantity) for line in together[2]} == {Decimal}
    assert together[1][0].details == {"recipient": "a@b.sa"}
    assert together[3] == []


def test_a_list_it_read_is_what_the_related_manager_returns_without_a_query(
    django_assert_num_queries,
):
    invoice = InvoiceFactory()
    [lines] = rows_together([invoice.lines.all()])
    prefetched(invoice, "lines", lines)

    with django_assert_num_queries(0):
        shown = list(invoice.lines.all())

    assert shown == list(InvoiceLine.objects.filter(invoice=invoice)) != []
