from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountingConfig(AppConfig):
    name = "accounting"
    verbose_name = _("Accounting")

    def ready(self) -> None:
        # Registers this app's message codes before any stored message is shown.
        from accounting import csv_import, messages  # noqa: F401
