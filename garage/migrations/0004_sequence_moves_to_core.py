from django.db import migrations


def _content_type_to(app_label: str, other: str):
    def move(apps, schema_editor):
        # Keeps the sequence permissions (and any group holding them) attached to the model.
        content_types = apps.get_model("contenttypes", "ContentType").objects.using(
            schema_editor.connection.alias
        )
        if not content_types.filter(app_label=app_label, model="sequence").exists():
            content_types.filter(app_label=other, model="sequence").update(app_label=app_label)

    return move


class Migration(migrations.Migration):
    """Sequence now lives in core; garage forgets it without touching the table."""

    dependencies = [
        ("garage", "0003_customer_name_en_optional"),
        ("core", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Sequence")],
            database_operations=[],
        ),
        migrations.RunPython(
            _content_type_to("core", "garage"), _content_type_to("garage", "core")
        ),
    ]
