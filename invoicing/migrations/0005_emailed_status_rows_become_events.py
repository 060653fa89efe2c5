"""Emails used to be recorded as a status change to the same status; they become events."""

import re

from django.db import migrations
from django.db.models import F

# The note was "Sent to <email>" in the language of whoever sent it; the address is the one
# word with an @ in either language.
EMAIL = re.compile(r"\S+@\S+")


def status_rows_to_events(apps, schema_editor):
    InvoiceStatusChange = apps.get_model("invoicing", "InvoiceStatusChange")
    InvoiceEvent = apps.get_model("invoicing", "InvoiceEvent")
    rows = InvoiceStatusChange.objects.filter(from_status=F("to_status")).order_by("id")
    InvoiceEvent.objects.bulk_create(
        InvoiceEvent(
            invoice_id=row.invoice_id,
            kind="emailed",
            details={"recipient": found.group() if (found := EMAIL.search(row.note)) else ""},
            created_by_id=row.changed_by_id,
            created_at=row.changed_at,
        )
        for row in rows
    )
    rows.delete()


def events_to_status_rows(apps, schema_editor):
    Invoice = apps.get_model("invoicing", "Invoice")
    InvoiceStatusChange = apps.get_model("invoicing", "InvoiceStatusChange")
    InvoiceEvent = apps.get_model("invoicing", "InvoiceEvent")
    events = InvoiceEvent.objects.filter(kind="emailed").order_by("id")
    statuses = dict(Invoice.objects.filter(events__in=events).values_list("pk", "status"))
    for event in events:
        row = InvoiceStatusChange.objects.create(
            invoice_id=event.invoice_id,
            from_status=statuses[event.invoice_id],
            to_status=statuses[event.invoice_id],
            note=f"Sent to {recipient}" if (recipient := event.details.get("recipient")) else "",
            changed_by_id=event.created_by_id,
        )
        # changed_at is auto_now_add: put back when the email was sent.
        InvoiceStatusChange.objects.filter(pk=row.pk).update(changed_at=event.created_at)
    events.delete()


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0004_invoiceevent")]

    operations = [migrations.RunPython(status_rows_to_events, events_to_status_rows)]
