"""Webhooks: a finance system's endpoints for invoice events, their deliveries and signatures.

Events come from invoicing.signals inside the invoicing service's transaction: the delivery
rows commit with the change, and the sending task is queued only after the commit
(transaction.on_commit), so a rolled-back void is never announced; a delivery whose task was
lost with the broker is queued again by a beat task. The receiver checks the
`Garage-Signature` header: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
endpoint's secret>`; the time lets it refuse a replayed delivery.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from api.models import ApiClient, Scope, WebhookDelivery, WebhookEndpoint
from invoicing import signals
from invoicing.models import Invoice

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Garage-Signature"
EVENT_ID_HEADER = "Garage-Event-Id"
EVENT_HEADER = "Garage-Event"
# At most this many overdue deliveries are queued again per beat run; the rest wait for the next.
REQUEUE_BATCH = 500


def url_refusal(url: str) -> str | None:
    """Why deliveries must not go to `url` (a message for the client), or None if they may.

    As for the Qoyod base URL: https only, no user name in it, and no loopback or private
    address unless settings.WEBHOOK_ALLOW_PRIVATE_HOSTS (tests and a trial install), which also
    allows plain http there, since a local receiver has no certificate."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return _("Enter the whole address, such as https://erp.example.com/hooks/garage.")
    if parts.username is not None or parts.password is not None:
        return _("Enter the address without a user name or password.")
    host = parts.hostname.lower().rstrip(".")
    try:
        private = not ipaddress.ip_address(host).is_global
    except ValueError:
        private = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    if private and not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return _("Use a public address: deliveries never go to a private or local network.")
    if parts.scheme.lower() != "https" and not private:
        return _("Use an https:// address: deliveries must not travel in clear text.")
    return None


def _check_events(events: Iterable[str]) -> list[str]:
    events = sorted(set(events))
    if not events or [e for e in events if e not in signals.EVENTS]:
        raise ValidationError({"events": [_("Choose one or more of the listed events.")]})
    return events


@transaction.atomic
def webhookendpoint_create(
    *, client: ApiClient, url: str, events: Iterable[str]
) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret (the caller shows it this once)."""
    refusal = url_refusal(url)
    if refusal is not None:
        raise ValidationError({"url": [refusal]})
    return WebhookEndpoint.objects.create(
        client=client, url=url.strip(), events=_check_events(events),
        secret=f"whsec_{secrets.token_hex(24)}",
    )  # fmt: skip


@transaction.atomic
def webhookendpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Stop deliveries to the endpoint; its delivery log goes with it."""
    endpoint.delete()


def payload_for(*, event: str, event_id: uuid.UUID, invoice: Invoice) -> dict[str, Any]:
    return {
        "id": str(event_id),
        "type": event,
        "created": timezone.now().isoformat(),
        "data": {
            "id": invoice.pk,
            "number": invoice.number,
            "status": invoice.status,
            "replaces": invoice.replaces.number if invoice.replaces else None,
        },
    }


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _queue(messages: list[tuple[int, int]]) -> None:
    """Queue a task for each (delivery id, attempts so far)."""
    from api.tasks import webhook_deliver

    for delivery_id, attempts in messages:
        try:
            webhook_deliver.delay(delivery_id, attempts)
        except (OperationalError, OSError):
            # The row stays pending; webhookdelivery_requeue_overdue queues it again later.
            logger.warning("Could not queue webhook delivery %d", delivery_id)


def webhook_event_record(*, event: str, invoice: Invoice) -> list[WebhookDelivery]:
    """A delivery for every endpoint subscribed to `event` whose client may see the invoice
    and still holds the scope; sending waits for the commit."""
    # The subscription is checked here, not with a JSON `contains` lookup, which SQLite (the
    # trial install's database) does not have; a garage has a handful of endpoints.
    endpoints = WebhookEndpoint.objects.filter(client__revoked_at__isnull=True).select_related(
        "client"
    )
    deliveries = []
    for endpoint in endpoints:
        client = endpoint.client
        if event not in endpoint.events:
            continue
        if not client.is_active or not client.has_scope(Scope.WEBHOOKS_MANAGE):
            continue
        if client.branch_id is not None and client.branch_id != invoice.branch_id:
            continue
        event_id = uuid.uuid4()
        deliveries.append(WebhookDelivery.objects.create(
            endpoint=endpoint, event_id=event_id, event=event,
            payload=payload_for(event=event, event_id=event_id, invoice=invoice),
        ))  # fmt: skip
    if deliveries:
        messages = [(d.pk, 0) for d in deliveries]
        transaction.on_commit(lambda: _queue(messages))
    return deliveries


def on_invoice_event(*, event: str, invoice: Invoice, **kwargs: Any) -> None:
    webhook_event_record(event=event, invoice=invoice)


def retry_delay(attempts: int) -> int:
    """Seconds before the next try: doubling from WEBHOOK_RETRY_BASE_SECONDS, at most an hour."""
    return int(min(settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600))


def _unleased(now: datetime.datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def webhookdelivery_claim(*, delivery_id: int, attempts: int) -> WebhookDelivery | None:
    """Take a pending delivery for its next attempt, or None if it is not this message's turn.

    A compare-and-set on the attempts the message was queued after: of two messages for one
    attempt (the one queued at the commit and the beat's requeue) only one sends, and a stale
    one finds the count moved on. The lease lasts as long as a task may run, so even a message
    with the right count cannot send while another worker is still sending."""
    now = timezone.now()
    lease = datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = WebhookDelivery.objects.filter(
        _unleased(now),
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
        attempts=attempts,
        attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS,
    ).update(attempts=F("attempts") + 1, lease_until=now + lease)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)


def webhookdelivery_record(
    *, delivery: WebhookDelivery, status_code: int | None, error: str
) -> None:
    """What an attempt met: a 2xx delivers; otherwise the error and the next try's time, or
    FAILED once out of tries. The lease is given back either way."""
    now = timezone.now()
    delivery.last_status_code, delivery.lease_until = status_code, None
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.last_error = WebhookDelivery.Status.DELIVERED, ""
        delivery.delivered_at = now
    else:
        delivery.last_error = error[:500]
        if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
        else:
            delivery.next_attempt_at = now + datetime.timedelta(
                seconds=retry_delay(delivery.attempts)
            )
    delivery.save(update_fields=[
        "status", "last_status_code", "last_error", "delivered_at", "next_attempt_at",
        "lease_until",
    ])  # fmt: skip


def webhookdelivery_requeue_overdue() -> int:
    """Queue again the pending deliveries overdue by WEBHOOK_REQUEUE_AFTER_SECONDS (their task
    was lost); how many. One whose last attempt's worker died, out of tries, fails instead."""
    now = timezone.now()
    pending = WebhookDelivery.objects.filter(_unleased(now), status=WebhookDelivery.Status.PENDING)
    pending.filter(attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS).update(
        status=WebhookDelivery.Status.FAILED, lease_until=None
    )
    grace = datetime.timedelta(seconds=settings.WEBHOOK_REQUEUE_AFTER_SECONDS)
    overdue = list(
        pending.filter(next_attempt_at__lt=now - grace)
        .order_by("next_attempt_at")
        .values_list("pk", "attempts")[:REQUEUE_BATCH]
    )
    # Due again from now: queued once per grace period, not once per beat, while it waits.
    WebhookDelivery.objects.filter(pk__in=[pk for pk, _attempts in overdue]).update(
        next_attempt_at=now
    )
    transaction.on_commit(lambda: _queue(overdue))
    return len(overdue)
