from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GarageConfig(AppConfig):
    name = "garage"
    verbose_name = _("Workshop")
