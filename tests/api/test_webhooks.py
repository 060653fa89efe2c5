"""Webhooks: registration over the API, signed deliveries to a real loopback receiver, retries,
subscriptions, the delivery log, and the addresses refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse

from api import webhooks
from api.models import Scope, WebhookDelivery, WebhookEndpoint
from api.tasks import webhook_deliver
from api.webhooks import retry_delay
from core import roles
from invoicing.services import invoice_void
from tests.api.conftest import caller
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory

pytestmark = pytest.mark.django_db


class Receiver:
    """A finance system's endpoint on loopback: answers the queued status codes in turn (then
    200) and keeps every request it got."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.got: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append((dict(self.headers), body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _register(api, url: str, events: list[str]) -> dict:
    response = api.post("/api/v1/webhooks/", {"url": url, "events": events}, "json")
    assert response.status_code == 201, response.json()
    return response.json()


def _deliver_all(callbacks) -> None:
    assert len(callbacks) == 1
    for delivery in WebhookDelivery.objects.order_by("id"):
        webhook_deliver.apply(args=[delivery.pk, 0])


def test_a_delivery_is_signed_and_verifiable(
    make_client, receiver, django_capture_on_commit_callbacks
):
    api = caller(make_client(scopes=[Scope.WEBHOOKS_MANAGE])[1])
    secret = _register(api, receiver.url, ["invoice.issued"])["secret"]

    with django_capture_on_commit_callbacks() as callbacks:
        invoice = InvoiceFactory()
    _deliver_all(callbacks)

    [(headers, body)] = receiver.got
    delivery = WebhookDelivery.objects.get()
    timestamp = headers["Garage-Signature"].split(",")[0].removeprefix("t=")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert headers["Garage-Signature"] == f"t={timestamp},v1={expected.hexdigest()}"
    assert headers["Garage-Event-Id"] == str(delivery.event_id)
    assert headers["Garage-Event"] == "invoice.issued"
    payload = json.loads(body)
    assert payload["id"] == str(delivery.event_id)
    assert payload["type"] == "invoice.issued"
    assert payload["data"] == {"id": invoice.pk, "number": invoice.number, "status": "issued",
                               "replaces": None}  # fmt: skip
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_a_500_is_retried_with_the_same_event_id_then_delivered(
    make_client, receiver, django_capture_on_commit_callbacks
):
    api = caller(make_client(scopes=[Scope.WEBHOOKS_MANAGE])[1])
    _register(api, receiver.url, ["invoice.issued"])
    receiver.answers = [500, 503]

    with django_capture_on_commit_callbacks() as callbacks:
        InvoiceFactory()
    _deliver_all(callbacks)

    delivery = WebhookDelivery.objects.get()
    assert len(receiver.got) == 3
    assert {h["Garage-Event-Id"] for h, _body in receiver.got} == {str(delivery.event_id)}
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "delivered", 3, 200, "",
    )  # fmt: skip


@override_settings(WEBHOOK_MAX_ATTEMPTS=2)
def test_out_of_attempts_the_delivery_fails_with_the_last_error(
    make_client, receiver, django_capture_on_commit_callbacks
):
    api = caller(make_client(scopes=[Scope.WEBHOOKS_MANAGE])[1])
    _register(api, receiver.url, ["invoice.issued"])
    receiver.answers = [500, 500, 500]

    with django_capture_on_commit_callbacks() as callbacks:
        InvoiceFactory()
    _deliver_all(callbacks)

    delivery = WebhookDelivery.objects.get()
    assert len(receiver.got) == 2
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "failed", 2, 500, "HTTP 500",
    )  # fmt: skip


def test_backoff_doubles_and_is_bounded():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(20) == 3600


def test_only_subscribed_events_are_delivered(
    make_client, receiver, django_capture_on_commit_callbacks
):
    api = caller(make_client(scopes=[Scope.WEBHOOKS_MANAGE])[1])
    _register(api, receiver.url, ["invoice.voided"])
    invoice = InvoiceFactory()
    assert WebhookDelivery.objects.count() == 0

    with django_capture_on_commit_callbacks() as callbacks:
        invoice_void(invoice=invoice, reason="typo", user=None)
    _deliver_all(callbacks)

    [(headers, _body)] = receiver.got
    assert headers["Garage-Event"] == "invoice.voided"


def test_a_rolled_back_change_queues_nothing(
    make_client, receiver, django_capture_on_commit_callbacks
):
    api = caller(make_client(scopes=[Scope.WEBHOOKS_MANAGE])[1])
    _register(api, receiver.url, ["invoice.voided"])
    invoice = InvoiceFactory()

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError):
        invoice_void(invoice=invoice, reason="", user=None)

    assert callbacks == []
    assert WebhookDelivery.objects.count() == 0


def test_another_branchs_invoice_is_not_announced(make_client, receiver):
    invoice = InvoiceFactory()
    other = InvoiceFactory()
    api = caller(make_client(scopes=[Scope.WEBHOOKS_MANAGE], branch=invoice.branch)[1])
    _register(api, receiver.url, ["invoice.voided"])

    invoice_void(invoice=other, reason="typo", user=None)

    assert other.branch_id != invoice.branch_id
    assert WebhookDelivery.objects.count() == 0


def test_register_list_and_delete(make_client, receiver):
    client, token = make_client(scopes=[Scope.WEBHOOKS_MANAGE])
    api = caller(token)
    created = _register(api, receiver.url, ["invoice.reissued", "invoice.issued"])

    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["invoice.issued", "invoice.reissued"]
    listed = api.get("/api/v1/webhooks/").json()
    assert [(e["id"], e["url"], e["recent_deliveries"]) for e in listed] == [
        (created["id"], receiver.url, [])
    ]
    assert "secret" not in listed[0]
    other = caller(make_client(scopes=[Scope.WEBHOOKS_MANAGE], name="Other")[1])
    assert other.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 404
    assert api.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 204
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize("scope", [s for s in Scope.values if s != Scope.WEBHOOKS_MANAGE])
def test_other_scopes_are_refused(make_client, scope):
    api = caller(make_client(scopes=[scope])[1])

    response = api.post("/api/v1/webhooks/", {"url": "https://erp.example.com/h",
                                              "events": ["invoice.issued"]}, "json")  # fmt: skip

    assert response.status_code == 403
    assert response.json()["detail"] == "This token lacks the webhooks:manage scope."
    assert api.get("/api/v1/webhooks/").status_code == 403
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "allow_private", "refused"),
    [
        ("https://erp.example.com/hooks", False, False),
        ("http://erp.example.com/hooks", False, True),
        ("http://127.0.0.1:8000/hooks", False, True),
        ("https://10.0.0.5/hooks", False, True),
        ("https://localhost/hooks", False, True),
        ("https://user:pw@erp.example.com/hooks", False, True),
        ("ftp://erp.example.com/hooks", False, True),
        ("http://127.0.0.1:8000/hooks", True, False),
        ("http://erp.example.com/hooks", True, True),
    ],
)
def test_address_rules(url, allow_private, refused):
    with override_settings(WEBHOOK_ALLOW_PRIVATE_HOSTS=allow_private):
        assert (webhooks.url_refusal(url) is not None) == refused


@override_settings(WEBHOOK_ALLOW_PRIVATE_HOSTS=False)
def test_a_refused_address_is_a_field_error_in_arabic(make_client):
    api = caller(make_client(scopes=[Scope.WEBHOOKS_MANAGE])[1], language="ar")

    response = api.post("/api/v1/webhooks/", {"url": "https://10.0.0.5/h",
                                              "events": ["invoice.issued"]}, "json")  # fmt: skip

    assert response.status_code == 400
    assert response.json()["errors"]["url"] == [
        "استخدم عنوانًا عامًا: لا تُرسل التسليمات أبدًا إلى شبكة خاصة أو محلية."
    ]
    assert WebhookEndpoint.objects.count() == 0


def test_an_unknown_event_is_a_field_error(make_client):
    api = caller(make_client(scopes=[Scope.WEBHOOKS_MANAGE])[1])

    response = api.post("/api/v1/webhooks/", {"url": "https://erp.example.com/h",
                                              "events": ["invoice.paid"]}, "json")  # fmt: skip

    assert response.status_code == 400
    assert [k for k in response.json()["errors"] if k.startswith("events")] != []
    assert WebhookEndpoint.objects.count() == 0


def test_the_clients_page_shows_each_endpoint_and_its_deliveries(make_client, receiver):
    client, token = make_client(scopes=[Scope.WEBHOOKS_MANAGE])
    created = _register(caller(token), receiver.url, ["invoice.issued"])
    InvoiceFactory()
    delivery = WebhookDelivery.objects.get()
    webhook_deliver.apply(args=[delivery.pk, 0])
    InvoiceFactory()
    browser = Client()
    browser.force_login(UserFactory(role=roles.ADMIN))

    page = browser.get(reverse("api_clients:list"), HTTP_ACCEPT_LANGUAGE="en")

    row = re.search(
        rf'<tr id="api-webhook-{created["id"]}">(.*?)</tr>', page.content.decode(), re.S
    )
    assert row is not None
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row[1], re.S)]
    assert cells == [client.name, receiver.url, "invoice.issued", "1", "1", "0", "—"]
