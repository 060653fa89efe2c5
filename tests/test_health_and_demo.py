from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import DatabaseError

from garage.models import Branch, Customer, JobCard, PartStock, Vehicle


@pytest.mark.django_db
def test_healthz_answers_without_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(client):
    with mock.patch("config.views.connection.cursor", side_effect=DatabaseError("down")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


@pytest.mark.django_db
def test_pages_need_login(client):
    response = client.get("/jobs/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/jobs/"


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = [m.objects.count() for m in (User, Branch, Customer, Vehicle, JobCard, PartStock)]
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert [m.objects.count() for m in (User, Branch, Customer, Vehicle, JobCard, PartStock)] == (
        counts
    )
    assert counts == [5, 2, 4, 4, 5, 10]
    assert set(JobCard.objects.values_list("status", flat=True)) == {
        "open", "in_progress", "completed", "cancelled",
    }  # fmt: skip
    assert set(User.objects.get(username="finance").groups.values_list("name", flat=True)) == {
        "Finance Manager"
    }
