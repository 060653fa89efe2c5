from django.apps import AppConfig


class QoyodSyncConfig(AppConfig):
    verbose_name = "Qoyod sync"
    name = "qoyod_sync"
