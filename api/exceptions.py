"""One error shape for every API answer that is not a success (our own handler; DRF's detail
texts come translated in its catalogue, ours in locale/):

    {"type": "validation_error" | "client_error" | "server_error",
     "code": "invalid" | "not_authenticated" | "permission_denied" | "not_found" | …,
     "detail": "a sentence in the request's language",
     "errors": {"field": ["message", …], "lines.0.amount": […]},
     "params": {…}}                    # machine-readable values of the sentence, when any

A field error is under the field's dotted path; errors not tied to one field are under
"non_field_errors".
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler


class Conflict(exceptions.APIException):
    """409: the request contradicts the resource's state; `params` says with what."""

    status_code: int = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail: str, *, code: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(detail, code)
        self.params = params or {}


class PdfNotAvailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "pdf_unavailable"
    default_detail = gettext_lazy("PDFs cannot be made on this server (Pango is not installed).")


def _flatten(errors: Any, path: str, into: dict[str, list[str]]) -> None:
    if isinstance(errors, dict):
        for key, value in errors.items():
            _flatten(value, f"{path}.{key}" if path else str(key), into)
    elif isinstance(errors, list) and errors and not all(isinstance(e, str) for e in errors):
        for index, value in enumerate(errors):
            _flatten(value, f"{path}.{index}" if path else str(index), into)
    elif isinstance(errors, list):
        into.setdefault(path or api_settings.NON_FIELD_ERRORS_KEY, []).extend(map(str, errors))
    else:
        into.setdefault(path or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(errors))


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Django's own 404 and 403 (get_object_or_404) get DRF's codes, as DRF's handler gives them.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors: dict[str, list[str]] = {}
        _flatten(exc.detail, "", errors)
        body = {
            "type": "validation_error",
            "code": "invalid",
            "detail": _("The request has invalid fields."),
            "errors": errors,
        }
    else:
        detail = getattr(exc, "detail", "")
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {
            "type": "server_error" if response.status_code >= 500 else "client_error",
            "code": codes if isinstance(codes, str) else "error",
            "detail": str(detail),
            "errors": {},
        }
    if isinstance(exc, Conflict):
        body["params"] = exc.params
    response.data = body
    return response


class Unprocessable(Conflict):
    """422: well-formed, but it cannot be done (an over-payment; a reused Idempotency-Key)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


def field_errors(
    exc: DjangoValidationError, nested: dict[str, str] | None = None
) -> ValidationError:
    """A service's ValidationError as the API's 400; `nested` maps a model field to the object
    it sits under in the request (building_number -> national_address)."""
    errors: dict[str, Any] = {}
    for field, messages in exc.message_dict.items():
        key = api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field
        parent = (nested or {}).get(key)
        if parent is None:
            errors.setdefault(key, []).extend(messages)
        else:
            errors.setdefault(parent, {}).setdefault(key, []).extend(messages)
    return ValidationError(errors)
