"""Deliveries whose task was lost are queued again by beat, and no delivery is ever sent twice at
once: a compare-and-set claim on the attempt count with a lease, within the bounded tries. The
receiver is httpx faked by respx; the broker is Celery's apply_async, recorded or refused; time
passes by moving a row's due time back, never by waiting."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx
from django.conf import settings
from django.db import connections
from django.test import override_settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from api.models import Scope, WebhookDelivery
from api.tasks import webhook_deliver, webhook_deliveries_requeue
from api.webhooks import webhookdelivery_claim, webhookdelivery_record, webhookendpoint_create
from config.celery import app
from tests.invoicing_factories import InvoiceFactory

pytestmark = pytest.mark.django_db

URL = "https://erp.example.com/hooks/garage"
GRACE = datetime.timedelta(seconds=settings.WEBHOOK_REQUEUE_AFTER_SECONDS)


@dataclass
class Broker:
    """webhook_deliver's queue: the (delivery id, attempts) of each message, or down."""

    down: bool = False
    messages: list[tuple[int, int]] = field(default_factory=list)

    def apply_async(self, args: tuple[int, int], *rest: Any, **kwargs: Any) -> None:
        if self.down:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.messages.append(tuple(args))  # type: ignore[arg-type]

    def run_all(self) -> None:
        """Let a worker take every queued message, in order."""
        messages, self.messages = self.messages, []
        for message in messages:
            webhook_deliver.apply(args=message)


@pytest.fixture
def broker(monkeypatch) -> Broker:
    broker = Broker()
    monkeypatch.setattr(webhook_deliver, "apply_async", broker.apply_async)
    return broker


@pytest.fixture
def receiver() -> Iterator[respx.Route]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(URL).mock(return_value=httpx.Response(200))


@pytest.fixture
def delivery(make_client, broker, django_capture_on_commit_callbacks) -> WebhookDelivery:
    """An invoice.issued delivery whose after-commit message the broker, down, refused."""
    client = make_client(scopes=[Scope.WEBHOOKS_MANAGE])[0]
    webhookendpoint_create(client=client, url=URL, events=["invoice.issued"])
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        InvoiceFactory()
    broker.down = False
    return WebhookDelivery.objects.get()


def _overdue(delivery: WebhookDelivery) -> None:
    """As if the grace period had passed since the delivery fell due."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - GRACE - datetime.timedelta(seconds=1)
    )


def _state(delivery: WebhookDelivery) -> tuple[str, int, bool]:
    delivery.refresh_from_db()
    return delivery.status, delivery.attempts, delivery.lease_until is not None


def test_a_delivery_the_broker_refused_stays_pending(delivery, broker):
    assert broker.messages == []
    assert _state(delivery) == ("pending", 0, False)


def test_within_the_grace_period_nothing_is_queued_again(delivery, broker, receiver):
    assert webhook_deliveries_requeue.apply().get() == 0

    assert broker.messages == []
    assert receiver.call_count == 0
    assert _state(delivery) == ("pending", 0, False)


def test_an_overdue_delivery_is_queued_again_once_and_delivered(
    delivery, broker, receiver, django_capture_on_commit_callbacks
):
    _overdue(delivery)

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_requeue.apply().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_requeue.apply().get() == 0
    assert broker.messages == [(delivery.pk, 0)]
    broker.run_all()

    assert receiver.call_count == 1
    assert receiver.calls.last.request.headers["Garage-Event-Id"] == str(delivery.event_id)
    assert _state(delivery) == ("delivered", 1, False)
    assert delivery.last_status_code == 200


def test_the_lost_message_and_its_requeue_send_once(
    delivery, broker, receiver, django_capture_on_commit_callbacks
):
    # The after-commit message was not lost after all, only late: both carry attempt 0.
    _overdue(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_requeue.apply()
    broker.messages.append((delivery.pk, 0))

    broker.run_all()

    assert receiver.call_count == 1
    assert _state(delivery) == ("delivered", 1, False)


def test_a_delivery_being_sent_is_neither_requeued_nor_sent_again(
    delivery, broker, django_capture_on_commit_callbacks
):
    seen: list[tuple[int, int, int]] = []

    def meanwhile(request: httpx.Request) -> httpx.Response:
        # While this attempt waits for the receiver: beat runs and a duplicate message with
        # the current count arrives; neither may send.
        _overdue(delivery)
        with django_capture_on_commit_callbacks(execute=True):
            requeued = webhook_deliveries_requeue.apply().get()
        duplicate = webhookdelivery_claim(delivery_id=delivery.pk, attempts=1)
        seen.append((requeued, len(broker.messages), 0 if duplicate is None else 1))
        return httpx.Response(200)

    with respx.mock as mock:
        route = mock.post(URL).mock(side_effect=meanwhile)
        webhook_deliver.apply(args=[delivery.pk, 0])

    assert seen == [(0, 0, 0)]
    assert route.call_count == 1
    assert _state(delivery) == ("delivered", 1, False)


def test_a_retry_lost_with_the_broker_is_queued_again_after_its_backoff(
    delivery, broker, django_capture_on_commit_callbacks
):
    claimed = webhookdelivery_claim(delivery_id=delivery.pk, attempts=0)
    assert claimed is not None
    webhookdelivery_record(delivery=claimed, status_code=503, error="HTTP 503")
    delivery.refresh_from_db()
    assert delivery.next_attempt_at > timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_requeue.apply().get() == 0
    _overdue(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_requeue.apply().get() == 1

    assert broker.messages == [(delivery.pk, 1)]
    assert _state(delivery) == ("pending", 1, False)
    assert (delivery.last_status_code, delivery.last_error) == (503, "HTTP 503")


def test_a_stale_message_does_not_send(delivery, broker, receiver):
    webhook_deliver.apply(args=[delivery.pk, 0])

    webhook_deliver.apply(args=[delivery.pk, 0])

    assert receiver.call_count == 1
    assert _state(delivery) == ("delivered", 1, False)


@override_settings(WEBHOOK_MAX_ATTEMPTS=2)
def test_a_requeue_never_goes_past_the_last_try(
    delivery, broker, django_capture_on_commit_callbacks
):
    with respx.mock as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(500))
        webhook_deliver.apply(args=[delivery.pk, 0])
        _overdue(delivery)
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_deliveries_requeue.apply().get() == 0
        webhook_deliver.apply(args=[delivery.pk, 1])
        webhook_deliver.apply(args=[delivery.pk, 2])

    assert route.call_count == 2
    assert broker.messages == []
    assert _state(delivery) == ("failed", 2, False)


@override_settings(WEBHOOK_MAX_ATTEMPTS=1)
def test_a_last_try_whose_worker_died_fails_once_its_lease_is_over(
    delivery, broker, receiver, django_capture_on_commit_callbacks
):
    assert webhookdelivery_claim(delivery_id=delivery.pk, attempts=0) is not None
    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_requeue.apply()
    assert _state(delivery) == ("pending", 1, True)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    _overdue(delivery)

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_requeue.apply().get() == 0

    assert broker.messages == []
    assert receiver.call_count == 0
    assert _state(delivery) == ("failed", 1, False)


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_one_attempt_have_one_winner(require_postgres, delivery):
    barrier = threading.Barrier(6)
    won: list[bool] = []

    def claim() -> None:
        try:
            barrier.wait()
            won.append(webhookdelivery_claim(delivery_id=delivery.pk, attempts=0) is not None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(won) == [False] * 5 + [True]
    assert _state(delivery) == ("pending", 1, True)


def test_beat_queues_overdue_deliveries_every_grace_period():
    entry = app.conf.beat_schedule["api-webhook-deliveries-requeue"]

    assert entry["task"] == webhook_deliveries_requeue.name
    assert entry["schedule"] == GRACE
