"""Writing the audit trail: `audit_record`, called where each sensitive action happens."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest

from audit.models import AuditEvent
from config.security import client_ip

# The request being served, for actions recorded by signal receivers that are not handed one
# (a role changed in the admin): set by audit.middleware.AuditRequestMiddleware.
current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def request_user(request: HttpRequest | None) -> AbstractBaseUser | None:
    """The signed-in user of a request, or None."""
    user = getattr(request, "user", None)
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    return user


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
    label: str | None = None,
) -> AuditEvent:
    """Append one row to the audit trail. Never pass a secret in before/after.

    The object is named by `label`, else by its str(); the request (else the one being served)
    gives the client address.
    """
    request = request if request is not None else current_request.get()
    if isinstance(actor, AnonymousUser) or (actor is not None and not actor.is_authenticated):
        actor = None
    return AuditEvent.objects.create(
        actor_id=actor.pk if actor is not None else None,
        actor_label=actor.get_username() if actor is not None else "",
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_label=(label if label is not None else str(obj) if obj is not None else "")[:200],
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        ip_address=client_ip(request) if request is not None else None,
    )
