from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, using, **kwargs):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    from garage.roles import roles_sync

    # post_migrate is sent once per app; permissions of apps later in INSTALLED_APPS are not
    # there yet when garage's signal arrives, so create them all first.
    for config in global_apps.get_app_configs():
        create_permissions(config, verbosity=0, using=using)
    roles_sync(global_apps, strict=True)


class GarageConfig(AppConfig):
    name = "garage"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="garage_sync_roles")
