"""Writes for API clients: create (the token is returned once), revoke, and the use record."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiClient, Scope
from audit.models import AuditEvent
from audit.services import audit_record
from garage.models import Branch

TOKEN_PREFIX = "gms_"
_PUBLIC_ID_LENGTH = 12
# The use record is bookkeeping, like the session's idle refresh: written at most this often.
LAST_USED_EVERY_SECONDS = 60


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_parse(token: str) -> str | None:
    """The public id of a well-formed token, else None."""
    head = len(TOKEN_PREFIX) + _PUBLIC_ID_LENGTH
    if not token.startswith(TOKEN_PREFIX) or len(token) < head + 2 or token[head] != "_":
        return None
    return token[len(TOKEN_PREFIX) : head]


def token_join(public_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}{public_id}_{secret}"


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown or not scopes:
        raise ValidationError({"scopes": [_("Choose one or more of the listed scopes.")]})
    return scopes


@transaction.atomic
def apiclient_create(
    *,
    name: str,
    scopes: Iterable[str],
    branch: Branch | None,
    expires_at,
    user: User | None,
    secret: str | None = None,
    public_id: str | None = None,
) -> tuple[ApiClient, str]:
    """A new client and its token, which is shown this once and never stored.

    `secret` and `public_id` are given only by the demo seed (apiclient_demo_token).
    """
    public_id = public_id or secrets.token_hex(_PUBLIC_ID_LENGTH // 2)
    token = token_join(public_id, secret or secrets.token_urlsafe(32))
    client = ApiClient.objects.create(
        name=name.strip(), public_id=public_id, token_hash=token_hash(token),
        scopes=_check_scopes(scopes), branch=branch, expires_at=expires_at, created_by=user,
    )  # fmt: skip
    audit_record(actor=user, action=AuditEvent.Action.API_CLIENT_CREATE, obj=client,
                 after={"scopes": client.scopes, "branch": branch.code if branch else None,
                        "expires_at": expires_at.isoformat() if expires_at else None,
                        "token_id": public_id})  # fmt: skip
    return client, token


@transaction.atomic
def apiclient_revoke(*, client: ApiClient, user: User | None) -> ApiClient:
    """Refuse the client's token from now on; revoking twice changes nothing."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is not None:
        return client
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    audit_record(actor=user, action=AuditEvent.Action.API_CLIENT_REVOKE, obj=client,
                 before={"revoked_at": None},
                 after={"revoked_at": client.revoked_at.isoformat()})  # fmt: skip
    return client


def apiclient_for_token(token: str) -> ApiClient | None:
    """The active client whose token this is, or None (unknown, expired or revoked)."""
    public_id = token_parse(token)
    if public_id is None:
        return None
    client = ApiClient.objects.select_related("branch").filter(public_id=public_id).first()
    if client is None or not hmac.compare_digest(client.token_hash, token_hash(token)):
        return None
    return client if client.is_active else None


def apiclient_record_use(*, client: ApiClient, ip: str | None) -> None:
    """Last use and address, written when the address changed or a minute has passed."""
    now = timezone.now()
    recent = (
        client.last_used_at is not None
        and (now - client.last_used_at).total_seconds() < LAST_USED_EVERY_SECONDS
    )
    if recent and client.last_ip == ip:
        return
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=now, last_ip=ip)
    client.last_used_at, client.last_ip = now, ip


def apiclient_demo_token(*, seed: str) -> tuple[str, str]:
    """The demo client's public id and secret, derived from the demo seed setting so `make run`
    prints the same token every time; never called with DEBUG off."""
    if not settings.DEBUG:
        raise RuntimeError("The demo API token exists only in a DEBUG (trial) install.")
    digest = hmac.new(seed.encode(), b"garage-demo-api-client", hashlib.sha256).hexdigest()
    return digest[:_PUBLIC_ID_LENGTH], digest[_PUBLIC_ID_LENGTH : _PUBLIC_ID_LENGTH + 40]
