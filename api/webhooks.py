"""Webhooks: a finance system's endpoints for invoice events, their deliveries and signatures.

Events come from invoicing.signals inside the invoicing service's transaction: the delivery
rows commit with the change, and the sending task is queued only after the commit
(transaction.on_commit), so a rolled-back void is never announced. The receiver checks the
`Garage-Signature` header: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
endpoint's secret>`; the time lets it refuse a replayed delivery.
"""

from __future__ import annotations

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


def _queue(delivery_ids: list[int]) -> None:
    from api.tasks import webhook_deliver

    for delivery_id in delivery_ids:
        try:
            webhook_deliver.delay(delivery_id)
        except (OperationalError, OSError):
            # The row stays pending, in the delivery log, for an admin to see.
            logger.warning("Could not queue webhook delivery %d", delivery_id)


def webhook_event_record(*, event: str, invoice: Invoice) -> list[WebhookDelivery]:
    """A delivery for every endpoint subscribed to `event` whose client may see the invoice
    and still holds the scope; sending waits for the commit."""
    endpoints = WebhookEndpoint.objects.filter(
        client__revoked_at__isnull=True, events__contains=[event]
    ).select_related("client")
    deliveries = []
    for endpoint in endpoints:
        client = endpoint.client
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
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: _queue(ids))
    return deliveries


def on_invoice_event(*, event: str, invoice: Invoice, **kwargs: Any) -> None:
    webhook_event_record(event=event, invoice=invoice)


def webhookdelivery_claim(*, delivery_id: int) -> WebhookDelivery | None:
    """Count an attempt of a pending delivery (compare-and-set), or None if it is settled."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
    return delivery


def webhookdelivery_record(
    *, delivery: WebhookDelivery, status_code: int | None, error: str, final: bool
) -> None:
    """What an attempt met: a 2xx delivers; otherwise the error, and FAILED once out of tries."""
    delivery.last_status_code = status_code
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.last_error = WebhookDelivery.Status.DELIVERED, ""
        delivery.delivered_at = timezone.now()
    else:
        delivery.last_error = error[:500]
        if final:
            delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["status", "last_status_code", "last_error", "delivered_at"])
