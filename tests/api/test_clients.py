"""API clients: tokens shown once and kept hashed, the 401 / 403 rules, the request budget,
sessions refused, and the Settings page that creates and revokes them."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiClient, Scope
from api.services import LAST_USED_EVERY_SECONDS, apiclient_revoke
from audit.models import AuditEvent
from core import roles
from tests.api.conftest import caller
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
QUEUE = "/api/v1/invoices/unprocessed/"


def test_a_token_is_prefixed_names_its_row_and_only_its_hash_is_kept(make_client):
    client, token = make_client()

    prefix, public_id, secret = token.split("_", 2)
    assert (prefix, public_id, len(public_id)) == ("gms", client.public_id, 12)
    assert len(secret) >= 40
    row = ApiClient.objects.filter(pk=client.pk).values().get()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row) and secret not in str(row)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer gms_000000000000_unknownsecretunknownsecret",
        "Bearer not-a-token",
        "Bearer",
        "Bearer a b",
        "Token gms_x",
    ],
)
def test_no_or_an_unknown_token_is_401_in_the_error_shape(authorization, make_client):
    make_client()
    api = caller(None)
    if authorization:
        api.credentials(HTTP_AUTHORIZATION=authorization)

    response = api.get(QUEUE)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert set(response.json()) == {"type", "code", "detail", "errors"}
    assert response.json()["type"] == "client_error"


def test_a_token_with_the_right_id_but_a_wrong_secret_is_401(make_client):
    _client, token = make_client()

    response = caller(token[:-3] + "xyz").get(QUEUE)

    assert response.status_code == 401


def test_expired_and_revoked_tokens_are_401(make_client):
    _expired, expired_token = make_client(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    revoked, revoked_token = make_client()
    apiclient_revoke(client=revoked, user=None)

    answers = [caller(t).get(QUEUE) for t in (expired_token, revoked_token)]

    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json()["detail"] == "The token is unknown, expired or revoked."


def test_a_missing_scope_is_403_naming_the_scope(make_client):
    _client, token = make_client(scopes=[Scope.CUSTOMERS_READ])

    response = caller(token).get(QUEUE)

    assert response.status_code == 403
    assert response.json() == {
        "type": "client_error",
        "code": "permission_denied",
        "detail": "This token lacks the invoices:read scope.",
        "errors": {},
    }


def test_a_staff_session_is_refused_even_for_a_superuser():
    browser = Client()
    browser.force_login(UserFactory(is_superuser=True, is_staff=True))

    response = browser.get(QUEUE)

    assert response.status_code == 401


def test_errors_come_in_the_language_of_the_request(make_client):
    _client, token = make_client(scopes=[Scope.CUSTOMERS_READ])

    response = caller(token, language="ar").get(QUEUE)

    assert response["Content-Language"] == "ar"
    assert response.json()["detail"] == "هذا الرمز لا يملك صلاحية invoices:read."


def test_last_use_and_address_are_recorded_at_most_once_a_minute(make_client):
    client, token = make_client()

    caller(token).get(QUEUE, REMOTE_ADDR="10.1.2.3")
    client.refresh_from_db()
    first = client.last_used_at
    caller(token).get(QUEUE, REMOTE_ADDR="10.1.2.3")
    client.refresh_from_db()

    assert (client.last_ip, client.last_used_at) == ("10.1.2.3", first)
    assert first is not None and timezone.now() - first < datetime.timedelta(
        seconds=LAST_USED_EVERY_SECONDS
    )


def test_over_the_budget_a_client_gets_429_with_retry_after_and_others_do_not(
    make_client, settings
):
    settings.API_RATE_LIMIT = "2/minute"
    cache.clear()
    _first, first_token = make_client()
    _second, second_token = make_client()

    answers = [caller(first_token).get(QUEUE).status_code for _ in range(3)]
    refused = caller(first_token).get(QUEUE)
    other = caller(second_token).get(QUEUE)

    assert answers == [200, 200, 429]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "throttled"
    assert other.status_code == 200


@pytest.mark.redis
def test_the_budget_is_kept_in_redis_so_every_worker_counts_against_it(
    make_client, settings, require_redis
):
    settings.API_RATE_LIMIT = "1/minute"
    cache.clear()
    client, token = make_client()

    assert caller(token).get(QUEUE).status_code == 200
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    assert cache.get(f"api-throttle:{client.pk}") is not None
    assert caller(token).get(QUEUE).status_code == 429


def _admin() -> Client:
    browser = Client()
    browser.force_login(UserFactory(role=roles.ADMIN))
    return browser


def test_the_settings_page_creates_a_client_shows_its_token_once_and_audits_it():
    browser = _admin()

    created = browser.post(
        reverse("api_clients:create"),
        {"name": "Finance ERP", "scopes": ["invoices:read", "invoices:write"]},
    )
    listing = browser.get(reverse("api_clients:list")).content.decode()

    client = ApiClient.objects.get()
    token = created.context["token"]
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"] or "max-age=0" in created["Cache-Control"]
    assert token in created.content.decode()
    assert token not in listing and client.token_prefix in listing
    assert caller(token).get(QUEUE).status_code == 200
    assert (client.scopes, client.branch, client.created_by.has_perm("api.add_apiclient")) == (
        ["invoices:read", "invoices:write"],
        None,
        True,
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.API_CLIENT_CREATE)
    assert (event.object_label, event.after["scopes"], token in str(event.after)) == (
        "Finance ERP",
        ["invoices:read", "invoices:write"],
        False,
    )


def test_the_settings_page_refuses_a_client_without_scopes_and_creates_nothing():
    response = _admin().post(reverse("api_clients:create"), {"name": "Finance ERP"})

    assert response.status_code == 200
    assert "scopes" in response.context["form"].errors
    assert not ApiClient.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.API_CLIENT_CREATE).exists()


def test_revoking_on_the_settings_page_refuses_the_token_and_audits_it(make_client):
    client, token = make_client()

    response = _admin().post(reverse("api_clients:client_revoke", args=[client.pk]))

    client.refresh_from_db()
    assert response.status_code == 302
    assert client.revoked_at is not None
    assert caller(token).get(QUEUE).status_code == 401
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.API_CLIENT_REVOKE, object_id=str(client.pk)
        ).count()
        == 1
    )


def test_the_admin_console_revokes_through_the_service(make_client):
    client, _token = make_client()
    root = Client()
    root.force_login(UserFactory(is_superuser=True, is_staff=True))

    root.post(
        reverse("admin:api_apiclient_changelist"),
        {"action": "revoke", "_selected_action": [client.pk]},
    )

    client.refresh_from_db()
    assert client.revoked_at is not None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.API_CLIENT_REVOKE).count() == 1
