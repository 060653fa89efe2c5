"""Scopes: each API view names the one a client needs (`required_scope`, and `write_scope` for
its POST, PATCH and DELETE when they need another)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.models import ApiClient

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class HasScope(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        client = request.auth
        if not isinstance(client, ApiClient):
            return False
        # A view that also writes names the writing scope apart (GET customers, POST them).
        scope = view.required_scope  # type: ignore[attr-defined]
        if request.method not in SAFE_METHODS:
            scope = getattr(view, "write_scope", scope)
        if client.has_scope(scope):
            return True
        self.message = _("This token lacks the %(scope)s scope.") % {"scope": scope}
        return False
