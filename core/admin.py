from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core.models import Sequence


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    list_display = ["name", "year", "last_value"]
    readonly_fields = ["name", "year", "last_value"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
