"""Admin building blocks shared by every app's console."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest

from core.models import Sequence


class ReadOnlyAdminMixin:
    """Rows that services write as a record (movements, histories, sync logs, read-backs).

    Adding, changing or deleting one by hand would make the record disagree with what happened,
    so the console only shows them. Put it before the admin base class.
    """

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


@admin.register(Sequence)
class SequenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # A hand-set counter would hand out a document number twice.
    list_display = ["name", "year", "last_value"]


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(ReadOnlyAdminMixin, GroupAdmin):
    """The roles and their permissions, to read: core.roles sets them again on every migrate,
    so an edit here would be undone without a word. A user's roles are chosen on their page."""
