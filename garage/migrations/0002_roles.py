from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):
    from garage.roles import roles_sync

    for config in global_apps.get_app_configs():
        create_permissions(config, verbosity=0)
    roles_sync(apps, strict=False)


class Migration(migrations.Migration):
    dependencies = [
        ("garage", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
