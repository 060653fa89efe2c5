from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Finance API")

    def ready(self) -> None:
        from api.webhooks import on_invoice_event
        from invoicing.signals import invoice_event

        invoice_event.connect(on_invoice_event, dispatch_uid="api.webhooks")
