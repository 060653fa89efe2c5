# Reasons become a message code and parameters (invoicing/messages.py), shown in the reader's
# language; text stored before keeps its words under the "legacy" code.

from django.db import migrations, models

MODELS = ["QoyodInvoiceSync", "QoyodSyncStateChange"]


def text_to_legacy(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("qoyod_sync", name)
        rows = list(model.objects.exclude(reason="").only("pk", "reason"))
        for row in rows:
            row.reason_code, row.reason_params = "legacy", {"text": row.reason}
        model.objects.bulk_update(rows, ["reason_code", "reason_params"], batch_size=500)


def legacy_to_text(apps, schema_editor):
    from django.utils import translation

    from invoicing.messages import render

    for name in MODELS:
        model = apps.get_model("qoyod_sync", name)
        rows = list(model.objects.exclude(reason_code=""))
        with translation.override("en"):
            for row in rows:
                row.reason = render(row.reason_code, row.reason_params)
        model.objects.bulk_update(rows, ["reason"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('qoyod_sync', '0002_roles'),
    ]

    operations = [
        migrations.AddField(
            model_name='qoyodinvoicesync',
            name='qoyod_message',
            field=models.TextField(blank=True, verbose_name="Qoyod's message"),
        ),
        migrations.AddField(
            model_name='qoyodinvoicesync',
            name='reason_code',
            field=models.CharField(blank=True, max_length=60),
        ),
        migrations.AddField(
            model_name='qoyodinvoicesync',
            name='reason_params',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='qoyodsyncstatechange',
            name='qoyod_message',
            field=models.TextField(blank=True, verbose_name="Qoyod's message"),
        ),
        migrations.AddField(
            model_name='qoyodsyncstatechange',
            name='reason_code',
            field=models.CharField(blank=True, max_length=60),
        ),
        migrations.AddField(
            model_name='qoyodsyncstatechange',
            name='reason_params',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(text_to_legacy, legacy_to_text),
        migrations.RemoveField(
            model_name='qoyodinvoicesync',
            name='reason',
        ),
        migrations.RemoveField(
            model_name='qoyodsyncstatechange',
            name='reason',
        ),
    ]
