"""Input that used to answer 500: each case now gets a clear refusal or is read sensibly.

Several of these only failed on PostgreSQL (NUL bytes, integers beyond a column's range) or only
on SQLite (ids beyond 64 bits), so the suite is meant to run on both.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core import roles
from garage.models import JobCard, JobLine
from tests.factories import (
    JobCardFactory,
    ServiceLineFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# Beyond every integer column, including SQLite's 64-bit integers.
HUGE_ID = "9" * 30


def _client(role: str = roles.ADMIN) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


@pytest.fixture
def admin_client() -> Client:
    return _client()


# a. Removing a line from a job that can no longer change


@pytest.mark.parametrize("status", [JobCard.Status.COMPLETED, JobCard.Status.CANCELLED])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_removing_a_line_from_a_closed_job_is_refused_on_the_lines_card(
    admin_client, status, headers
):
    job = JobCardFactory(status=status)
    line = ServiceLineFactory(job=job)

    response = admin_client.post(
        reverse("garage:job_line_remove", args=[job.pk, line.pk]), headers=headers
    )

    assert response.status_code == 200
    refusal = (
        '<div class="alert alert-danger" role="alert" data-line-refusal><div>'
        "Lines can only be changed while the job is open or in progress.</div></div>"
    )
    assert refusal in response.text
    assert response.text.count("alert-danger") == 1
    assert list(JobLine.objects.filter(job=job)) == [line]
    job.refresh_from_db()
    assert job.status == status
