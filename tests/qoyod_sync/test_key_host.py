"""The Qoyod API key goes only to Qoyod: allowed hosts, the enabled sandbox, a new address."""

from __future__ import annotations

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from core import roles
from qoyod_sync import crypto
from qoyod_sync.client import ClientOptions
from qoyod_sync.connection import base_url_refusal
from qoyod_sync.models import FailureKind, QoyodConnection, SyncState
from qoyod_sync.push import invoice_send_draft
from qoyod_sync.services import (
    ConnectionUnusable,
    connection_reader,
    connection_save,
    connection_test,
    connection_writer,
)
from tests import factories
from tests.qoyod_sync.test_push import make_invoice

SETTINGS = reverse("qoyod_sync:settings")
SANDBOX = "http://127.0.0.1:8765/2.0"
KEY = "first-key-0000000001"
HTTPS_ONLY = (
    "Use an https:// address: the API key must not travel in clear text. Allowed: api.qoyod.com."
)
QOYOD_ONLY = "The API key may only be sent to Qoyod. Use an address on api.qoyod.com."
NO_USER = "Enter the address without a user name or password."
WHOLE = "Enter the whole Qoyod API address, such as https://api.qoyod.com/2.0."


@pytest.fixture
def production(settings):
    settings.QOYOD_ALLOWED_HOSTS = ["api.qoyod.com"]
    settings.QOYOD_SANDBOX_URL = SANDBOX
    settings.QOYOD_SANDBOX_ENABLED = False
    return settings


@pytest.fixture
def finance() -> Client:
    client = Client()
    client.force_login(factories.UserFactory(username="finance", role=roles.FINANCE_MANAGER))
    return client


class NoCalls(httpx.BaseTransport):
    """A transport that records any request instead of sending it."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return httpx.Response(200, json={})


def row() -> dict:
    return QoyodConnection.objects.values().get()


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("http://api.qoyod.com/2.0", HTTPS_ONLY),
        (SANDBOX, HTTPS_ONLY),
        ("http://10.0.0.5/2.0", HTTPS_ONLY),
        ("https://qoyod.example.com/2.0", QOYOD_ONLY),
        ("https://api.qoyod.com.example.com/2.0", QOYOD_ONLY),
        ("https://127.0.0.1/2.0", QOYOD_ONLY),
        ("https://127.0.0.1:8765/2.0", QOYOD_ONLY),
        ("https://10.1.2.3/2.0", QOYOD_ONLY),
        ("https://192.168.1.10/2.0", QOYOD_ONLY),
        ("https://localhost/2.0", QOYOD_ONLY),
        ("https://[::1]/2.0", QOYOD_ONLY),
        ("https://api.qoyod.com:8443/2.0", QOYOD_ONLY),
        ("https://user:secret@api.qoyod.com/2.0", NO_USER),
        ("api.qoyod.com/2.0", WHOLE),
        ("https://api.qoyod.com:port/2.0", WHOLE),
    ],
)  # fmt: skip
def test_production_refuses_plain_http_other_hosts_and_internal_addresses(production, url, refusal):
    assert base_url_refusal(url) == refusal


@pytest.mark.parametrize(
    "url",
    ["https://api.qoyod.com/2.0", "https://API.Qoyod.com/2.0/", "https://api.qoyod.com:443/2.0"],
)
def test_production_accepts_https_on_an_allowed_host(production, url):
    assert base_url_refusal(url) is None


def test_the_allowed_hosts_come_from_the_setting_and_the_message_lists_them(production):
    production.QOYOD_ALLOWED_HOSTS = ["api.qoyod.com", "Sandbox.Qoyod.com"]

    assert base_url_refusal("https://sandbox.qoyod.com/api/2.0") is None
    assert base_url_refusal("https://www.qoyod.com/api/2.0") == (
        "The API key may only be sent to Qoyod. Use an address on api.qoyod.com, sandbox.qoyod.com."
    )


def test_the_default_allowed_host_is_the_qoyod_api_host():
    from django.conf import settings

    assert settings.QOYOD_ALLOWED_HOSTS == ["api.qoyod.com"]


def test_the_enabled_sandbox_is_accepted_at_its_own_origin_only(production):
    production.QOYOD_SANDBOX_ENABLED = True
    allowed = "api.qoyod.com, or the sandbox at http://127.0.0.1:8765/2.0"

    assert base_url_refusal(SANDBOX) is None
    assert base_url_refusal("http://127.0.0.1:8765/2.0/") is None
    assert base_url_refusal("http://127.0.0.1:8766/2.0") == (
        f"Use an https:// address: the API key must not travel in clear text. Allowed: {allowed}."
    )
    assert base_url_refusal("http://localhost:8765/2.0") == (
        f"Use an https:// address: the API key must not travel in clear text. Allowed: {allowed}."
    )
    assert base_url_refusal("https://10.0.0.5/2.0") == (
        f"The API key may only be sent to Qoyod. Use an address on {allowed}."
    )
    assert base_url_refusal("https://api.qoyod.com/2.0") is None


# ---- the settings page and connection_save ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("http://qoyod.example.com/2.0", "Use an https:// address"),
        ("https://10.0.0.5/2.0", QOYOD_ONLY),
        ("https://localhost/2.0", QOYOD_ONLY),
        (SANDBOX, HTTPS_ONLY),
    ],
)
def test_the_form_refuses_a_disallowed_address_and_saves_nothing(production, finance, url, refusal):
    response = finance.post(SETTINGS, {"base_url": url, "api_key": KEY})

    assert response.status_code == 200
    assert refusal in response.text
    assert not QoyodConnection.objects.exists()


@pytest.mark.django_db
def test_a_refused_address_leaves_the_saved_connection_as_it_was(production, finance):
    connection_save(base_url="https://api.qoyod.com/2.0", api_key=KEY, user=None)
    before = row()

    response = finance.post(
        SETTINGS, {"base_url": "https://attacker.example/2.0", "api_key": "second-key-000002"}
    )

    assert response.status_code == 200
    assert QOYOD_ONLY in response.text
    assert row() == before


@pytest.mark.django_db
def test_the_service_refuses_a_disallowed_address_too(production):
    connection_save(base_url="https://api.qoyod.com/2.0", api_key=KEY, user=None)
    before = row()

    with pytest.raises(Exception) as caught:
        connection_save(base_url="https://attacker.example/2.0", api_key="", user=None)

    assert caught.value.message_dict == {"base_url": [QOYOD_ONLY]}
    assert row() == before


@pytest.mark.django_db
def test_a_new_address_without_a_new_key_removes_the_saved_key(production, finance):
    production.QOYOD_ALLOWED_HOSTS = ["api.qoyod.com", "sandbox.qoyod.com"]
    connection = connection_save(base_url="https://api.qoyod.com/2.0", api_key=KEY, user=None)
    QoyodConnection.objects.update(catalogue={"warehouses": []}, last_test_ok=True)

    response = finance.post(
        SETTINGS, {"base_url": "https://sandbox.qoyod.com/api/2.0", "api_key": ""}, follow=True
    )

    saved = row()
    assert (saved["id"], saved["base_url"]) == (connection.pk, "https://sandbox.qoyod.com/api/2.0")
    assert (saved["api_key_encrypted"], saved["api_key_last4"]) == ("", "")
    assert (saved["catalogue"], saved["last_test_ok"]) == ({}, None)
    assert (
        "Qoyod address saved. The saved API key was removed because the address changed: paste "
        "the key for this address."
    ) in response.text
    assert "None saved: paste the key for this address." in response.text
    assert "Changing the address removes the saved key" not in response.text
    assert "Paste the API key from Qoyod." not in response.text
    # With no key saved, the form asks for one again.
    again = finance.post(SETTINGS, {"base_url": "https://sandbox.qoyod.com/api/2.0", "api_key": ""})
    assert "Paste the API key from Qoyod." in again.text
    assert row() == saved


@pytest.mark.django_db
def test_a_new_address_with_a_new_key_keeps_the_new_key(production, finance):
    production.QOYOD_ALLOWED_HOSTS = ["api.qoyod.com", "sandbox.qoyod.com"]
    connection_save(base_url="https://api.qoyod.com/2.0", api_key=KEY, user=None)
    page = finance.get(SETTINGS).text
    assert "Changing the address removes the saved key unless you paste the key here too." in page

    response = finance.post(
        SETTINGS,
        {"base_url": "https://sandbox.qoyod.com/api/2.0", "api_key": "second-key-000002"},
        follow=True,
    )

    saved = row()
    assert saved["base_url"] == "https://sandbox.qoyod.com/api/2.0"
    assert saved["api_key_last4"] == "0002"
    assert crypto.decrypt(saved["api_key_encrypted"]) == "second-key-000002"
    assert "Qoyod connection saved. Test it next." in response.text


@pytest.mark.django_db
def test_the_same_address_without_a_key_keeps_the_saved_key(production):
    connection_save(base_url="https://api.qoyod.com/2.0", api_key=KEY, user=None)
    before = row()

    connection_save(base_url="https://api.qoyod.com/2.0/", api_key="", user=None)

    after = row()
    assert (after["api_key_encrypted"], after["api_key_last4"]) == (
        before["api_key_encrypted"],
        "0001",
    )


# ---- a stored address the key may not go to (written by admin, SQL, an old version) ----------


def refused(base_url: str) -> str:
    return (
        f"The saved Qoyod API address {base_url} may not receive the API key. Ask the finance "
        "manager to enter Qoyod's address in the Qoyod settings."
    )


def stored(base_url: str) -> QoyodConnection:
    return QoyodConnection.objects.create(
        base_url=base_url, api_key_encrypted=crypto.encrypt(KEY), api_key_last4=KEY[-4:]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("build", [connection_reader, connection_writer])
def test_the_client_is_never_built_for_a_disallowed_stored_address(production, build):
    connection = stored("https://attacker.example/2.0")
    transport = NoCalls()

    with pytest.raises(ConnectionUnusable) as caught:
        build(connection, options=ClientOptions(transport=transport))

    assert caught.value.messages == [refused("https://attacker.example/2.0")]
    assert transport.seen == []


@pytest.mark.django_db
def test_test_connection_sends_nothing_to_the_sandbox_once_it_is_disabled(production):
    stored(SANDBOX)
    transport = NoCalls()

    connection = connection_test(user=None, options=ClientOptions(transport=transport))

    assert transport.seen == []
    assert (connection.last_test_ok, connection.last_test_message) == (False, refused(SANDBOX))


@pytest.mark.django_db
def test_a_send_stops_before_any_request_when_the_stored_address_is_disallowed(production):
    stored("http://10.0.0.5/2.0")
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    transport = NoCalls()

    result = invoice_send_draft(
        invoice=invoice, user=None, options=ClientOptions(transport=transport)
    )

    assert transport.seen == []
    assert result.ok is False
    assert (result.sync.state, result.sync.failure_kind) == (
        SyncState.FAILED,
        FailureKind.NOT_CONNECTED,
    )
    assert result.message == refused("http://10.0.0.5/2.0")


@pytest.mark.django_db
def test_a_stored_connection_without_a_key_is_unusable(production):
    connection = QoyodConnection.objects.create(base_url="https://api.qoyod.com/2.0")

    with pytest.raises(ConnectionUnusable) as caught:
        connection_reader(connection)

    assert caught.value.messages == [
        "No Qoyod API key is saved for this address. Ask the finance manager to enter it in the "
        "Qoyod settings."
    ]


@pytest.mark.django_db
def test_the_admin_cannot_change_the_stored_address(production):
    connection_save(base_url="https://api.qoyod.com/2.0", api_key=KEY, user=None)
    before = row()
    admin = Client()
    admin.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:qoyod_sync_qoyodconnection_change", args=[before["id"]])

    posted = admin.post(url, {"base_url": "https://attacker.example/2.0"})

    # The connection is read-only there: it changes on the settings page, which checks the host.
    assert posted.status_code == 403
    keep = ("base_url", "api_key_encrypted", "api_key_last4")
    assert {k: row()[k] for k in keep} == {k: before[k] for k in keep}


def test_the_refusal_is_translated(production):
    with translation.override("ar"):
        refusal = base_url_refusal("https://qoyod.example.com/2.0")

    assert refusal == "لا يُرسل مفتاح API إلا إلى قيود. استخدم عنوانًا على api.qoyod.com."
