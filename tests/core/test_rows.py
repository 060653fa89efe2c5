"""rows_together: several querysets' rows in one query, as if each had been read alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.rows import prefetched, rows_query, rows_together
from invoicing.models import Invoice, InvoiceEvent, InvoiceLine, InvoiceStatusChange
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


def test_a_query_built_once_with_stand_ins_reads_each_records_lists(django_assert_num_queries):
    first, second = InvoiceFactory(), InvoiceFactory()
    InvoiceStatusChange.objects.create(invoice=first, to_status="issued")
    InvoiceStatusChange.objects.create(invoice=second, to_status="issued")
    InvoiceStatusChange.objects.create(invoice=second, from_status="issued", to_status="void")
    stand_in = Invoice(pk=-1)
    query = rows_query(
        [stand_in.history.all(), stand_in.lines.select_related("service_item")], invoice=-1
    )

    with django_assert_num_queries(2):
        read = [query.read(invoice=invoice.pk) for invoice in (first, second)]

    for invoice, (history, lines) in zip((first, second), read, strict=True):
        assert [_fields(row) for row in history] == [_fields(row) for row in invoice.history.all()]
        assert [_fields(row) for row in lines] == [_fields(row) for row in invoice.lines.all()]
        assert [line.service_item for line in lines] == [
            line.service_item for line in invoice.lines.all()
        ]
    # The factory's invoice starts with its own status change; the second has one more.
    counts = [len(history) for history, _lines in read]
    assert counts == [first.history.count(), second.history.count()] == [counts[0], counts[0] + 1]
    assert query.read(invoice=0) == [[], []]


def test_every_stand_in_must_be_a_parameter():
    invoice = Invoice(pk=-1)

    with pytest.raises(AssertionError, match="every stand-in is a parameter"):
        rows_query([invoice.history.all()], invoice=-1, other=-2)
