from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from core.database import connection_tune


def _sync_roles(sender, using, **kwargs):
    from django.apps import apps as global_apps

    from core.roles import roles_sync_all

    # After a full migrate every permission exists, so a typo in ROLE_PERMISSIONS fails here.
    roles_sync_all(global_apps, strict=True, using=using)


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="core_sync_roles")
        connection_created.connect(connection_tune, dispatch_uid="core_connection_tune")
