"""The backend reads a signed-in user and their permissions in one query."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from core.auth import PermissionBackend
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_the_user_comes_with_their_own_and_their_groups_permissions_in_one_query(
    django_assert_num_queries,
):
    user = UserFactory(role=None)
    user.user_permissions.add(_permission("invoicing", "view_invoice"))
    desk, empty = Group.objects.create(name="desk"), Group.objects.create(name="empty")
    desk.permissions.add(
        _permission("garage", "view_jobcard"), _permission("invoicing", "view_invoice")
    )
    user.groups.add(desk, empty)

    with django_assert_num_queries(1):
        loaded = PermissionBackend().get_user(user.pk)
        permissions = loaded.get_all_permissions()
        can = (loaded.has_perm("garage.view_jobcard"), loaded.has_perm("garage.delete_jobcard"))

    assert loaded == user
    assert permissions == {"invoicing.view_invoice", "garage.view_jobcard"}
    assert can == (True, False)


def test_a_user_without_permissions_has_none():
    user = UserFactory(role=None)

    assert PermissionBackend().get_user(user.pk).get_all_permissions() == set()


def test_a_superuser_has_every_permission():
    user = UserFactory(role=None, is_superuser=True)

    permissions = PermissionBackend().get_user(user.pk).get_all_permissions()

    assert len(permissions) == Permission.objects.count()


def test_an_inactive_or_deleted_user_is_nobody():
    user = UserFactory(role=None, is_active=False)

    assert PermissionBackend().get_user(user.pk) is None
    assert PermissionBackend().get_user(user.pk + 1000) is None
    assert PermissionBackend().get_user("not a number") is None


def test_a_permission_taken_away_is_gone_on_the_next_page():
    user = UserFactory(role=None)
    user.user_permissions.add(_permission("invoicing", "view_invoice"))
    client = Client()
    client.force_login(user)
    assert client.get("/invoices/").status_code == 200

    user.user_permissions.clear()

    assert client.get("/invoices/").status_code == 403
