"""Who edited or emailed an invoice, recorded as data and shown on the invoice page in either
language."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from core import roles
from invoicing.models import Invoice
from invoicing.services import (
    LineData,
    invoice_prefill,
    invoice_send_to_customer,
    invoice_update,
)
from tests.factories import ServiceItemFactory, UserFactory, VehicleFactory
from tests.invoicing_factories import InvoiceFactory, PaymentFactory, invoice_state

D = Decimal
pytestmark = pytest.mark.django_db


def _update(invoice: Invoice, **overrides) -> Invoice:
    arguments = {
        "invoice": invoice,
        "customer": invoice.customer,
        "vehicle": invoice.vehicle,
        "lines": invoice_prefill(job=invoice.job),
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "requires_qoyod": invoice.requires_qoyod,
        "notes": invoice.notes,
        "user": None,
    }
    return invoice_update(**{**arguments, **overrides})


def _events(invoice: Invoice) -> list[tuple]:
    return list(invoice.events.values_list("kind", "details", "created_by"))


def _edit_lines_dates_and_notes(invoice: Invoice, user) -> tuple[LineData, LineData, LineData]:
    """Remove the service line, change the part line and add a 100.00 service."""
    service, part = invoice_prefill(job=invoice.job)
    item = ServiceItemFactory(default_price=D("100.00"))
    added = LineData(
        kind="service", item=item, description_en=item.name_en, description_ar=item.name_ar,
        quantity=D("1"), unit_price=D("100.00"), vat_rate=D("0.15"),
    )  # fmt: skip
    _update(
        invoice,
        lines=[LineData(**{**part.__dict__, "quantity": D("3"), "discount": D("5.00")}), added],
        due_date=invoice.due_date + datetime.timedelta(days=10),
        notes="Fleet account",
        user=user,
    )  # fmt: skip
    return service, part, added


def test_an_edit_records_the_user_the_changed_fields_and_the_lines_before_and_after():
    invoice = InvoiceFactory()
    user = UserFactory()

    service, part, added = _edit_lines_dates_and_notes(invoice, user)

    due = invoice.due_date
    assert _events(invoice) == [
        (
            "edited",
            {
                "fields": [
                    {"field": "due_date", "before": due.isoformat(),
                     "after": (due + datetime.timedelta(days=10)).isoformat()},
                    {"field": "notes", "before": "", "after": "Fleet account"},
                    {"field": "total", "before": "276.00", "after": "264.50"},
                ],
                "lines_added": [
                    {"description": added.description_en, "description_ar": added.description_ar,
                     "quantity": "1.000", "unit_price": "100.00"},
                ],
                "lines_removed": [
                    {"description": service.description_en,
                     "description_ar": service.description_ar, "quantity": "1.000",
                     "unit_price": "150.00"},
                ],
                "lines_changed": [
                    {"description": part.description_en, "description_ar": part.description_ar,
                     "fields": [{"field": "quantity", "before": "2.000", "after": "3.000"},
                                {"field": "discount", "before": "0.00", "after": "5.00"}]},
                ],
            },
            user.pk,
        )
    ]  # fmt: skip
    # An edit is not a status change.
    assert list(invoice.history.values_list("from_status", "to_status")) == [("", "issued")]


def test_choosing_another_customer_records_the_snapshot_that_changes_on_paper():
    invoice = InvoiceFactory()
    vehicle = VehicleFactory(customer__phone="+966500000099", customer__name_en="Sara Trading")
    old_customer, old_plate = invoice.customer, invoice.vehicle_plate

    _update(invoice, customer=vehicle.customer, vehicle=vehicle)

    [(kind, details, user)] = _events(invoice)
    assert (kind, user) == ("edited", None)
    assert details["fields"] == [
        {"field": "customer_name", "before": old_customer.name_en, "after": "Sara Trading"},
        {"field": "customer_name_ar", "before": old_customer.name_ar,
         "after": vehicle.customer.name_ar},
        {"field": "customer_phone", "before": old_customer.phone, "after": "+966500000099"},
        {"field": "vehicle_plate", "before": old_plate, "after": vehicle.plate_number},
    ]  # fmt: skip
    assert (details["lines_added"], details["lines_removed"], details["lines_changed"]) == (
        [], [], []
    )  # fmt: skip


def test_saving_an_edit_that_changes_nothing_records_nothing():
    invoice = InvoiceFactory()

    _update(invoice, user=UserFactory())

    assert _events(invoice) == []


def test_a_refused_edit_records_nothing():
    invoice = InvoiceFactory()
    PaymentFactory(invoice=invoice, amount=D("50.00"))
    before = invoice_state(invoice)

    with pytest.raises(ValidationError):
        _update(invoice, notes="Changed", user=UserFactory())
    with pytest.raises(ValidationError):
        _update(invoice, due_date=invoice.issue_date - datetime.timedelta(days=1))

    assert _events(invoice) == []
    assert invoice_state(invoice) == before


def test_emailing_records_an_event_with_the_recipient_and_the_user_not_a_status_change():
    invoice = InvoiceFactory()
    user = UserFactory()

    invoice_send_to_customer(invoice=invoice, link="https://garage.example/x/", user=user)

    assert len(mail.outbox) == 1
    assert _events(invoice) == [("emailed", {"recipient": invoice.customer.email}, user.pk)]
    assert list(invoice.history.values_list("from_status", "to_status")) == [("", "issued")]


def test_an_email_refused_for_a_missing_address_records_nothing():
    invoice = InvoiceFactory(job__customer__email="")

    with pytest.raises(ValidationError):
        invoice_send_to_customer(invoice=invoice, link="https://garage.example/x/", user=None)

    assert (_events(invoice), mail.outbox) == ([], [])


# The invoice page


# Quantities and prices sit in left-to-right isolates (the ltr filter).
ONE, P100, P150 = (f'<bdi dir="ltr">{value}</bdi>' for value in ("1", "100.00", "150.00"))


def _page(invoice: Invoice, language: str) -> str:
    client = Client()
    client.force_login(UserFactory(role=roles.ADMIN))
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: language})
    # The middleware activates the cookie's language for this thread; the override puts the
    # previous one back for the tests that follow.
    with translation.override(language):
        response = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk]))
    assert response.status_code == 200
    return response.text


def _edited_and_emailed() -> tuple[Invoice, LineData, LineData, LineData]:
    invoice = InvoiceFactory()
    user = UserFactory(first_name="Sara", last_name="Ahmed")
    service, part, added = _edit_lines_dates_and_notes(invoice, user)
    invoice_send_to_customer(invoice=invoice, link="https://garage.example/x/", user=user)
    return invoice, service, part, added


def test_the_invoice_page_shows_the_edit_and_the_email_in_order_in_english():
    invoice, service, part, added = _edited_and_emailed()
    due = invoice.due_date  # as edited, ten days later
    with translation.override("en"):
        before, after = (formats.date_format(d) for d in (due - datetime.timedelta(10), due))

    html = _page(invoice, "en")

    history = html[html.index('data-testid="history"') :]
    assert history.index(">Issued<") < history.index(">Edited<") < history.index("Emailed to")
    for text in [
        f"Due date: <bdi>{before}</bdi> → <bdi>{after}</bdi>",
        "Notes: <bdi>—</bdi> → <bdi>Fleet account</bdi>",
        "Total: <bdi>276.00</bdi> → <bdi>264.50</bdi>",
        f"Line added: <bdi>{added.description_en}</bdi> × {ONE} at {P100}",
        f"Line removed: <bdi>{service.description_en}</bdi> × {ONE} at {P150}",
        f"Line changed: <bdi>{part.description_en}</bdi> (Quantity <bdi>2</bdi> → <bdi>3</bdi>, "
        "Discount <bdi>0.00</bdi> → <bdi>5.00</bdi>)",
        f"Emailed to <bdi>{invoice.customer.email}</bdi>",
    ]:
        assert text in history, text
    assert history.count("Sara Ahmed") == 2


def test_the_same_rows_read_in_arabic_on_an_arabic_page():
    invoice, service, part, added = _edited_and_emailed()

    html = _page(invoice, "ar")

    history = html[html.index('data-testid="history"') :]
    for text in [
        "الملاحظات: <bdi>—</bdi> → <bdi>Fleet account</bdi>",
        "الإجمالي: <bdi>276.00</bdi> → <bdi>264.50</bdi>",
        f"أُضيف بند: <bdi>{added.description_ar}</bdi> × {ONE} بسعر {P100}",
        f"حُذف بند: <bdi>{service.description_ar}</bdi> × {ONE} بسعر {P150}",
        f"عُدّل بند: <bdi>{part.description_ar}</bdi> (الكمية <bdi>2</bdi> → <bdi>3</bdi>, "
        "الخصم <bdi>0.00</bdi> → <bdi>5.00</bdi>)",
        f"أُرسلت بالبريد إلى <bdi>{invoice.customer.email}</bdi>",
        ">عُدّلت<",
    ]:
        assert text in history, text
    assert "Edited" not in history and "Emailed" not in history


# The data migration


BEFORE_EVENTS = [("invoicing", "0004_invoiceevent")]
WITH_EVENTS = [("invoicing", "0005_emailed_status_rows_become_events")]


def _migrated_to(targets: list[tuple[str, str]]):
    """The app registry as of `targets`, after migrating the test database there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_same_status_email_rows_into_emailed_events_and_back():
    invoice = InvoiceFactory()
    user = UserFactory()
    sent_at = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)
    try:
        old = _migrated_to(BEFORE_EVENTS)
        old_change = old.get_model("invoicing", "InvoiceStatusChange")
        for note in ["Sent to a@example.com", "أُرسلت إلى b@example.com", ""]:
            row = old_change.objects.create(
                invoice_id=invoice.pk, from_status="issued", to_status="issued", note=note,
                changed_by_id=user.pk,
            )  # fmt: skip
            old_change.objects.filter(pk=row.pk).update(changed_at=sent_at)

        new = _migrated_to(WITH_EVENTS)

        rows = new.get_model("invoicing", "InvoiceStatusChange").objects.filter(
            invoice_id=invoice.pk
        )
        assert list(rows.values_list("from_status", "to_status")) == [("", "issued")]
        events = new.get_model("invoicing", "InvoiceEvent").objects.filter(invoice_id=invoice.pk)
        assert list(
            events.order_by("id").values_list("kind", "details", "created_by", "created_at")
        ) == [
            ("emailed", {"recipient": "a@example.com"}, user.pk, sent_at),
            ("emailed", {"recipient": "b@example.com"}, user.pk, sent_at),
            ("emailed", {"recipient": ""}, user.pk, sent_at),
        ]

        old = _migrated_to(BEFORE_EVENTS)

        assert old.get_model("invoicing", "InvoiceEvent").objects.count() == 0
        assert list(
            old.get_model("invoicing", "InvoiceStatusChange")
            .objects.filter(invoice_id=invoice.pk, from_status="issued")
            .order_by("id")
            .values_list("note", "changed_by", "changed_at")
        ) == [
            ("Sent to a@example.com", user.pk, sent_at),
            ("Sent to b@example.com", user.pk, sent_at),
            ("", user.pk, sent_at),
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
