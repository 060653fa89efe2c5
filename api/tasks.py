"""Celery tasks of the finance API. They talk only to finance systems' webhook endpoints and
the local database, never to Qoyod."""

from __future__ import annotations

import datetime

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from api.models import IdempotencyKey, WebhookDelivery
from api.webhook_sender import webhook_post
from api.webhooks import (
    webhookdelivery_claim,
    webhookdelivery_record,
    webhookdelivery_requeue_overdue,
)


@shared_task(bind=True, max_retries=None, acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)  # fmt: skip
def webhook_deliver(self: Task, delivery_id: int, attempts: int) -> None:
    """Send a delivery's next attempt, if this message is the one for it (`attempts` so far)."""
    delivery = webhookdelivery_claim(delivery_id=delivery_id, attempts=attempts)
    if delivery is None:
        return
    status_code, error = webhook_post(delivery)
    webhookdelivery_record(delivery=delivery, status_code=status_code, error=error)
    if delivery.status == WebhookDelivery.Status.PENDING:
        raise self.retry(args=(delivery_id, delivery.attempts), eta=delivery.next_attempt_at)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def webhook_deliveries_requeue() -> int:
    """Queue again the deliveries whose task was lost (the local database and the broker only)."""
    return webhookdelivery_requeue_overdue()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def idempotency_keys_expire() -> int:
    """Delete Idempotency-Key rows older than IDEMPOTENCY_KEY_HOURS (local database only)."""
    cutoff = timezone.now() - datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
