# History notes become a message code and parameters (core/messages.py), shown in the
# reader's language; notes stored before keep their words under the "legacy" code.

from django.db import migrations, models


def text_to_legacy(apps, schema_editor):
    model = apps.get_model("invoicing", "InvoiceStatusChange")
    rows = list(model.objects.exclude(note="").only("pk", "note"))
    for row in rows:
        row.note_code, row.note_params = "legacy", {"text": row.note}
    model.objects.bulk_update(rows, ["note_code", "note_params"], batch_size=500)


def legacy_to_text(apps, schema_editor):
    from django.utils import translation

    from core.messages import render

    model = apps.get_model("invoicing", "InvoiceStatusChange")
    rows = list(model.objects.exclude(note_code=""))
    with translation.override("en"):
        for row in rows:
            row.note = render(row.note_code, row.note_params)[:300]
    model.objects.bulk_update(rows, ["note"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('invoicing', '0005_emailed_status_rows_become_events'),
    ]

    operations = [
        migrations.AddField(
            model_name='invoicestatuschange',
            name='note_code',
            field=models.CharField(blank=True, max_length=60),
        ),
        migrations.AddField(
            model_name='invoicestatuschange',
            name='note_params',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(text_to_legacy, legacy_to_text),
        migrations.RemoveField(
            model_name='invoicestatuschange',
            name='note',
        ),
    ]
