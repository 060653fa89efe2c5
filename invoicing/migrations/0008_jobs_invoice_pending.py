from django.db import migrations
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q


def fill(apps, schema_editor):
    # The rule of invoicing.services.job_invoice_pending_expression, on the historical models.
    job_model = apps.get_model("garage", "JobCard")
    invoice_model = apps.get_model("invoicing", "Invoice")
    active = invoice_model.objects.filter(job=OuterRef("pk")).exclude(status="void")
    job_model.objects.filter(status="completed").update(
        invoice_pending=ExpressionWrapper(~Exists(active), output_field=BooleanField())
    )


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0007_search_indexes"),
        ("garage", "0009_jobcard_invoice_pending"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
