# Reasons and the last connection test become a message code and parameters
# (core/messages.py), shown in the reader's language; text stored before keeps its words
# under the "legacy" code.

from django.db import migrations, models

# model, old text field, new code field, new params field, old field's max length
FIELDS = [
    ("QoyodInvoiceSync", "reason", "reason_code", "reason_params", None),
    ("QoyodSyncStateChange", "reason", "reason_code", "reason_params", None),
    ("QoyodConnection", "last_test_message", "last_test_code", "last_test_params", 500),
]


def text_to_legacy(apps, schema_editor):
    for name, text, code, params, _length in FIELDS:
        model = apps.get_model("qoyod_sync", name)
        rows = list(model.objects.exclude(**{text: ""}).only("pk", text))
        for row in rows:
            setattr(row, code, "legacy")
            setattr(row, params, {"text": getattr(row, text)})
        model.objects.bulk_update(rows, [code, params], batch_size=500)


def attempt_text_to_legacy(apps, schema_editor):
    # The client's sentence (our English, with Qoyod's words inside it) was kept where only
    # Qoyod's own words belong now: it moves, whole, to the detail.
    model = apps.get_model("qoyod_sync", "QoyodAttempt")
    rows = list(model.objects.exclude(message="").only("pk", "message"))
    for row in rows:
        row.detail_code, row.detail_params, row.message = "legacy", {"text": row.message}, ""
    model.objects.bulk_update(rows, ["detail_code", "detail_params", "message"], batch_size=500)


def attempt_legacy_to_text(apps, schema_editor):
    from django.utils import translation

    from core.messages import render

    model = apps.get_model("qoyod_sync", "QoyodAttempt")
    rows = list(model.objects.exclude(detail_code=""))
    with translation.override("en"):
        for row in rows:
            detail = render(row.detail_code, row.detail_params)
            row.message = f"{detail}: {row.message}" if row.message else detail
    model.objects.bulk_update(rows, ["message"], batch_size=500)


def legacy_to_text(apps, schema_editor):
    from django.utils import translation

    from core.messages import render

    for name, text, code, params, length in FIELDS:
        model = apps.get_model("qoyod_sync", name)
        rows = list(model.objects.exclude(**{code: ""}))
        with translation.override("en"):
            for row in rows:
                setattr(row, text, render(getattr(row, code), getattr(row, params))[:length])
        model.objects.bulk_update(rows, [text], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('qoyod_sync', '0002_roles'),
    ]

    operations = [
        migrations.AddField(
            model_name='qoyodconnection',
            name='last_test_code',
            field=models.CharField(blank=True, editable=False, max_length=60),
        ),
        migrations.AddField(
            model_name='qoyodconnection',
            name='last_test_params',
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.AddField(
            model_name='qoyodconnection',
            name='last_test_qoyod_message',
            field=models.TextField(blank=True, editable=False, verbose_name="Qoyod's message"),
        ),
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
        migrations.AddField(
            model_name='qoyodattempt',
            name='detail_code',
            field=models.CharField(blank=True, max_length=60),
        ),
        migrations.AddField(
            model_name='qoyodattempt',
            name='detail_params',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(text_to_legacy, legacy_to_text),
        migrations.RunPython(attempt_text_to_legacy, attempt_legacy_to_text),
        migrations.RemoveField(
            model_name='qoyodconnection',
            name='last_test_message',
        ),
        migrations.RemoveField(
            model_name='qoyodinvoicesync',
            name='reason',
        ),
        migrations.RemoveField(
            model_name='qoyodsyncstatechange',
            name='reason',
        ),
    ]
