from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicingConfig(AppConfig):
    name = "invoicing"
    verbose_name = _("Invoicing")

    def ready(self) -> None:
        # Registers this app's message codes before any stored note is shown.
        from invoicing import messages  # noqa: F401
