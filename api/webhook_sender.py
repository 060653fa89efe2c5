"""The one HTTP call of webhooks: POST a signed delivery to the finance system's endpoint.

It never talks to Qoyod (tests/qoyod_sync/test_one_door.py lists it as such), and no
transaction is open while it waits.
"""

from __future__ import annotations

import time

import httpx
from django.conf import settings

from api.models import WebhookDelivery
from api.webhooks import EVENT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, body_of, signature


def webhook_post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """The receiver's status code (None if none came) and an error text for the log."""
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(
            secret=delivery.endpoint.secret, timestamp=int(time.time()), body=body
        ),
        EVENT_ID_HEADER: str(delivery.event_id),
        EVENT_HEADER: delivery.event,
    }
    timeout = httpx.Timeout(settings.WEBHOOK_TIMEOUT)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as http:
            response = http.post(delivery.endpoint.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    error = "" if response.is_success else f"HTTP {response.status_code}"
    return response.status_code, error
