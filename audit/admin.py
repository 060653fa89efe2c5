from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from core.admin import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail, to search and read: nothing here adds, changes or deletes a row."""

    list_display = ["at", "actor_label", "action", "object_label", "ip_address"]
    list_filter = ["action", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_label", "object_label", "action"]
    date_hierarchy = "at"
    fields = ("at", "actor_label", "action", "content_type", "object_id", "object_label",
              "before_json", "after_json", "ip_address")  # fmt: skip
    readonly_fields = fields
    list_select_related = ["content_type"]

    @admin.display(description=_("before"))
    def before_json(self, obj: AuditEvent) -> str:
        return _pretty(obj.before)

    @admin.display(description=_("after"))
    def after_json(self, obj: AuditEvent) -> str:
        return _pretty(obj.after)


def _pretty(value: object) -> str:
    if value is None:
        return "—"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))
