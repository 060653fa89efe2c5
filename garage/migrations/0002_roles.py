from django.db import migrations

from core.roles import roles_sync_migration


class Migration(migrations.Migration):
    dependencies = [
        ("garage", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
