from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "invoicing"

    def ready(self) -> None:
        # Registers this app's message codes before any stored note is shown.
        from invoicing import messages  # noqa: F401
