from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        # Registers this app's message codes before any stored note is shown.
        from payments import messages  # noqa: F401
