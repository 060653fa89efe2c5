from django.db import migrations

from core.roles import roles_sync_migration


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial"), ("garage", "0002_roles")]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
