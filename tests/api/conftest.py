"""API clients and a caller that sends their token."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from api.models import ApiClient, Scope
from api.services import apiclient_create
from garage.models import Branch

ALL_SCOPES = list(Scope.values)


@pytest.fixture
def make_client(db) -> Callable[..., tuple[ApiClient, str]]:
    def make(
        scopes: list[str] | None = None, branch: Branch | None = None, **kwargs
    ) -> tuple[ApiClient, str]:
        return apiclient_create(
            name=kwargs.pop("name", "Finance ERP"),
            scopes=ALL_SCOPES if scopes is None else scopes,
            branch=branch,
            expires_at=kwargs.pop("expires_at", None),
            user=None,
        )

    return make


def caller(token: str | None, language: str = "en") -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if token is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


@pytest.fixture
def api(make_client) -> APIClient:
    """A caller with every scope and no branch restriction."""
    return caller(make_client()[1])
