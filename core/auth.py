"""The authentication backend: Django's, with the user and their permissions read in one query."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db.models import Aggregate, OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Concat

from core.database import CompiledQuery, query_compile

# Separates the permissions in the joined text; app labels and codenames never contain it.
_SEPARATOR = ","


class _Joined(Aggregate):
    """A group's texts joined by _SEPARATOR: PostgreSQL's string_agg, SQLite's group_concat."""

    function = "STRING_AGG"
    template = f"%(function)s(%(expressions)s, '{_SEPARATOR}')"
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def _permission_codes(through: Any, permission: str) -> Subquery:
    """The outer user's permissions reached through `through` (a many-to-many table of users),
    as "app_label.codename" joined into one text, or NULL when there are none."""
    return Subquery(
        through.objects.filter(user_id=OuterRef("pk"), **{f"{permission}__isnull": False})
        .order_by()
        .values("user_id")
        .annotate(
            codes=_Joined(
                Concat(
                    f"{permission}__content_type__app_label",
                    Value("."),
                    f"{permission}__codename",
                    output_field=TextField(),
                )
            )
        )
        .values("codes"),
        output_field=TextField(),
    )


# Stands for the user's id while the query is compiled; no user has it.
_ANY_PK = -7_340_127


@functools.cache
def _user_query(using: str) -> CompiledQuery:
    """The user with both permission texts, compiled once per database."""
    User = get_user_model()
    return query_compile(
        User._default_manager.db_manager(using)
        .annotate(
            own_permissions=_permission_codes(User.user_permissions.through, "permission"),
            group_permissions=_permission_codes(User.groups.through, "group__permissions"),
        )
        .filter(pk=_ANY_PK),
        pk=_ANY_PK,
    )


class PermissionBackend(ModelBackend):
    """ModelBackend reads the user, then the user's own permissions and the groups' in two more
    queries on every page (the menu asks for permissions): here the user comes with both, in
    one query, and the permissions are cached on the user as Django caches them."""

    def get_user(self, user_id: Any) -> Any:
        User = get_user_model()
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        found = _user_query(User._default_manager.db).raw(User, pk=pk)
        user: Any = found[0] if found else None
        if user is None or not self.user_can_authenticate(user):
            return None
        # A superuser has every permission: get_all_permissions reads them all when asked.
        if not user.is_superuser:
            codes = f"{user.own_permissions or ''}{_SEPARATOR}{user.group_permissions or ''}"
            user._perm_cache = {code for code in codes.split(_SEPARATOR) if code}
        return user

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            rows = Permission.objects.all()
            if not user_obj.is_superuser:
                rows = rows.filter(
                    Q(pk__in=user_obj.user_permissions.values("pk"))
                    | Q(pk__in=Permission.objects.filter(group__user=user_obj).values("pk"))
                )
            pairs = rows.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in pairs}
        return user_obj._perm_cache
