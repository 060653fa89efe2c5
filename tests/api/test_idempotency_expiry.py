"""Idempotency-Key rows are kept IDEMPOTENCY_KEY_HOURS, then the beat task deletes them."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from api.models import IdempotencyKey
from api.tasks import idempotency_keys_expire
from config.celery import app

pytestmark = pytest.mark.django_db


@override_settings(IDEMPOTENCY_KEY_HOURS=24)
def test_keys_older_than_the_setting_are_deleted(make_client):
    client, _token = make_client()
    now = timezone.now()
    ages = {"old": 25, "edge": 24, "young": 23}
    for key, hours in ages.items():
        row = IdempotencyKey.objects.create(client=client, key=key, fingerprint="f" * 64)
        IdempotencyKey.objects.filter(pk=row.pk).update(
            created_at=now - datetime.timedelta(hours=hours, seconds=1 if key == "edge" else 0)
        )

    deleted = idempotency_keys_expire.apply().get()

    assert deleted == 2
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]


def test_beat_runs_the_expiry_hourly():
    entry = app.conf.beat_schedule["api-idempotency-keys-expire"]

    assert entry["task"] == idempotency_keys_expire.name
    assert entry["schedule"] == datetime.timedelta(hours=1)
    assert settings.IDEMPOTENCY_KEY_HOURS == 24
