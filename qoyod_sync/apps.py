from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QoyodSyncConfig(AppConfig):
    verbose_name = _("Qoyod sync")
    name = "qoyod_sync"

    def ready(self) -> None:
        # Registers this app's message codes before any stored reason is shown.
        from qoyod_sync import messages  # noqa: F401
