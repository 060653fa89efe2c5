from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from core import roles

pytestmark = pytest.mark.django_db


def _names(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_migrate_leaves_every_role_with_exactly_its_permissions():
    for role, names in roles.ROLE_PERMISSIONS.items():
        assert _names(Group.objects.get(name=role)) == set(names), role
    assert Group.objects.get(name=roles.ADMIN).permissions.count() == Permission.objects.count()


def test_sync_puts_back_a_permission_taken_from_a_role_and_removes_an_extra_one():
    advisor = Group.objects.get(name=roles.ADVISOR)
    advisor.permissions.remove(Permission.objects.get(codename="add_payment"))
    advisor.permissions.add(Permission.objects.get(codename="manage_connection"))

    roles.roles_sync(apps, strict=True)

    assert _names(advisor) == set(roles.ROLE_PERMISSIONS[roles.ADVISOR])


def test_strict_sync_refuses_an_unknown_permission_and_changes_nothing(monkeypatch):
    before = _names(Group.objects.get(name=roles.TECHNICIAN))
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, roles.TECHNICIAN, ["garage.fly_jobcard"])

    with pytest.raises(LookupError, match="garage.fly_jobcard"):
        roles.roles_sync(apps, strict=True)

    assert _names(Group.objects.get(name=roles.TECHNICIAN)) == before


def test_lenient_sync_skips_an_unknown_permission():
    names = [*roles.ROLE_PERMISSIONS[roles.TECHNICIAN], "garage.fly_jobcard"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(roles.ROLE_PERMISSIONS, roles.TECHNICIAN, names)
        roles.roles_sync(apps, strict=False)

    assert _names(Group.objects.get(name=roles.TECHNICIAN)) == set(
        roles.ROLE_PERMISSIONS[roles.TECHNICIAN]
    )
