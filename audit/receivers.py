"""Audit rows for what Django and django-axes signal: logins, failures, lockouts, and changes to
users and their roles wherever they are made (admin, shell, seed commands)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.http import HttpRequest

from audit.models import AuditEvent
from audit.services import audit_record, current_request, request_user

A = AuditEvent.Action
# What an audit row says about a user: never the password hash.
USER_FIELDS = ("username", "email", "first_name", "last_name", "is_active", "is_staff",
               "is_superuser")  # fmt: skip


def _user_fields(user: Any) -> dict[str, Any]:
    return {name: getattr(user, name) for name in USER_FIELDS}


def _group_names(user: Any) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def _permission_names(user: Any) -> list[str]:
    return sorted(
        f"{app}.{codename}"
        for app, codename in user.user_permissions.values_list(
            "content_type__app_label", "codename"
        )
    )


def _actor() -> Any:
    return request_user(current_request.get())


def _user_pre_save(
    sender: Any, instance: Any, raw: bool, update_fields: Any, **kwargs: Any
) -> None:
    tracked = update_fields is None or not set(update_fields).isdisjoint(USER_FIELDS)
    if raw or instance._state.adding or not tracked:
        instance._audit_before = None
        return
    stored = sender._base_manager.filter(pk=instance.pk).values(*USER_FIELDS).first()
    instance._audit_before = stored


def _user_post_save(sender: Any, instance: Any, created: bool, raw: bool, **kwargs: Any) -> None:
    if raw:
        return
    # Set by set_password() until the model's save() has finished with it.
    password_set = getattr(instance, "_password", None) is not None
    if created:
        audit_record(actor=_actor(), action=A.USER_CREATE, obj=instance,
                     after=_user_fields(instance))  # fmt: skip
        return
    before = getattr(instance, "_audit_before", None)
    if before is not None:
        now = _user_fields(instance)
        changed = [name for name in USER_FIELDS if before[name] != now[name]]
        if changed:
            audit_record(
                actor=_actor(), action=A.USER_CHANGE, obj=instance,
                before={n: before[n] for n in changed}, after={n: now[n] for n in changed},
            )  # fmt: skip
    if password_set:
        audit_record(actor=_actor(), action=A.USER_PASSWORD, obj=instance)


def _memberships_changed(
    kind: str, names: Callable[[Any], list[str]], action_code: str, reverse_users: str
) -> Callable[..., None]:
    """A receiver recording a user's roles or own permissions before and after an m2m change."""
    key = f"_audit_{kind}"

    def receiver(
        sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
    ) -> None:
        if action.startswith("pre_"):
            if not reverse:
                users = [instance]
            elif pk_set is None:
                users = list(getattr(instance, reverse_users).all())
            else:
                # group.user_set.add(...): the users are the pk_set.
                users = list(get_user_model()._base_manager.filter(pk__in=pk_set))
            # Kept on the instance the signal is sent for, which the post_ signal is sent for too.
            setattr(instance, key, {user.pk: (user, names(user)) for user in users})
            return
        for user, before in getattr(instance, key, {}).values():
            after = names(user)
            if before != after:
                audit_record(actor=_actor(), action=action_code, obj=user,
                             before={kind: before}, after={kind: after})  # fmt: skip
        setattr(instance, key, {})

    return receiver


# Roles are groups; a user's own permissions beside them are a user change of the same weight.
_groups_changed = _memberships_changed("groups", _group_names, A.USER_GROUPS, "user_set")
_permissions_changed = _memberships_changed(
    "permissions", _permission_names, A.USER_CHANGE, "user_set"
)


def _logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action=A.LOGIN, obj=user, request=request)


def _attempted(username: str | None) -> Any:
    User = get_user_model()
    if not username:
        return None
    return User._base_manager.filter(**{User.USERNAME_FIELD: username}).first()


def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = credentials.get(get_user_model().USERNAME_FIELD)
    audit_record(actor=None, action=A.LOGIN_FAILED, obj=_attempted(username),
                 after={"username": username}, request=request)  # fmt: skip


def _locked_out(
    sender: Any,
    request: HttpRequest | None,
    username: str | None,
    ip_address: str | None,
    **kwargs: Any,
) -> None:
    audit_record(
        actor=None, action=A.LOCKED_OUT, obj=_attempted(username),
        after={"username": username, "ip_address": ip_address}, request=request,
    )  # fmt: skip


def connect() -> None:
    User = get_user_model()
    pre_save.connect(_user_pre_save, sender=User, dispatch_uid="audit_user_pre_save")
    post_save.connect(_user_post_save, sender=User, dispatch_uid="audit_user_post_save")
    m2m_changed.connect(_groups_changed, sender=User.groups.through, dispatch_uid="audit_groups")
    m2m_changed.connect(
        _permissions_changed, sender=User.user_permissions.through, dispatch_uid="audit_perms"
    )
    user_logged_in.connect(_logged_in, dispatch_uid="audit_logged_in")
    user_login_failed.connect(_login_failed, dispatch_uid="audit_login_failed")
    user_locked_out.connect(_locked_out, dispatch_uid="audit_locked_out")
