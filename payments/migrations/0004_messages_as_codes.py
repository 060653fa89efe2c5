# The last refresh error becomes a message code and parameters (core/messages.py), shown in
# the reader's language; errors stored before keep their words under the "legacy" code.

from django.db import migrations, models


def text_to_legacy(apps, schema_editor):
    model = apps.get_model("payments", "QoyodPaymentState")
    rows = list(model.objects.exclude(last_error="").only("pk", "last_error"))
    for row in rows:
        row.last_error_code, row.last_error_params = "legacy", {"text": row.last_error}
    model.objects.bulk_update(rows, ["last_error_code", "last_error_params"], batch_size=500)


def legacy_to_text(apps, schema_editor):
    from django.utils import translation

    from core.messages import render

    model = apps.get_model("payments", "QoyodPaymentState")
    rows = list(model.objects.exclude(last_error_code=""))
    with translation.override("en"):
        for row in rows:
            row.last_error = render(row.last_error_code, row.last_error_params)[:500]
    model.objects.bulk_update(rows, ["last_error"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0003_qoyod_readback'),
    ]

    operations = [
        migrations.AddField(
            model_name='qoyodpaymentstate',
            name='last_error_code',
            field=models.CharField(blank=True, max_length=60),
        ),
        migrations.AddField(
            model_name='qoyodpaymentstate',
            name='last_error_params',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='qoyodpaymentstate',
            name='qoyod_message',
            field=models.TextField(blank=True, verbose_name="Qoyod's message"),
        ),
        migrations.RunPython(text_to_legacy, legacy_to_text),
        migrations.RemoveField(
            model_name='qoyodpaymentstate',
            name='last_error',
        ),
    ]
