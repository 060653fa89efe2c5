"""The API's only way in: `Authorization: Bearer gms_…`. Sessions are not accepted, so a page
open in a staff browser can never be turned into API calls (and no CSRF token is involved)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api.models import ApiClient
from api.services import apiclient_for_token, apiclient_record_use
from config.security import client_ip


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiClient] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send one token after Bearer."))
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from None
        client = apiclient_for_token(token)
        if client is None:
            raise exceptions.AuthenticationFailed(
                _("The token is unknown, expired or revoked."), code="invalid_token"
            )
        apiclient_record_use(client=client, ip=client_ip(request._request))
        # The client is the caller; there is no staff user behind an API call.
        return AnonymousUser(), client

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API client's token, `gms_` followed by its id and secret.",
        }
