from django.db import migrations

CHECKS = [
    ("invoicing_invoice", "invoice_total_identity", "total = net_total + vat_total"),
    ("invoicing_invoice", "invoice_balance_identity", "balance = total - amount_paid"),
    ("invoicing_invoiceline", "invoiceline_total_identity", "line_total = line_net + line_vat"),
]


def add_checks(apps, schema_editor):
    # Exact numeric arithmetic exists on PostgreSQL only; see Invoice.Meta.
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, condition in CHECKS:
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition})")


def drop_checks(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _condition in CHECKS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0002_drop_float_unsafe_checks")]

    operations = [migrations.RunPython(add_checks, drop_checks)]
