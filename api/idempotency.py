"""The Idempotency-Key header on every POST of the API (as Stripe and the IETF draft have it).

The same key with the same body gets the stored answer (status and body) again, and nothing
is done twice; the same key with another body or path is 422. The key's row is inserted in the
transaction that does the work: a second request with the key blocks on the unique index until
the first commits, then finds the stored answer; if the first fails, nothing of it remains.
A 5xx is not stored (the transaction rolls back), so the client may try again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from api.exceptions import Unprocessable
from api.models import ApiClient, IdempotencyKey

HEADER = "Idempotency-Key"
# Visible ASCII, no spaces: a header value's ends are trimmed on the way, so a key with spaces
# could arrive as another key.
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"

PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    pattern=KEY_PATTERN,
    description=(
        "Any unique string (a UUID) per operation: a retry with the same key and body gets the "
        "first answer back and changes nothing; another body with the key is 422."
    ),
)


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not re.fullmatch(KEY_PATTERN, key):
        raise ValidationError(
            {HEADER: [_("Send 1 to 255 letters, digits or ASCII signs, without spaces.")]}
        )
    return key


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise Unprocessable(
            _("This Idempotency-Key was already used for another request."),
            code="idempotency_key_reused",
        )
    response = Response(stored.response_body, status=stored.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Wrap a POST handler of an ApiView (after authentication, scope and throttle checks)."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _key(request)
        if key is None:
            return handler(view, request, *args, **kwargs)
        client = request.auth
        assert isinstance(client, ApiClient)
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    claim = IdempotencyKey.objects.create(
                        client=client, key=key, fingerprint=fingerprint
                    )
            except IntegrityError:
                return _replay(IdempotencyKey.objects.get(client=client, key=key), fingerprint)
            try:
                response = handler(view, request, *args, **kwargs)
            except APIException as exc:
                response = view.handle_exception(exc)
            claim.status_code, claim.response_body = response.status_code, response.data
            claim.save(update_fields=["status_code", "response_body"])
        return response

    return wrapper
