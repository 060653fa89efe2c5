"""The parts' cost and margin on the job page: exact figures, for the roles that may see costs."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from core import roles
from garage import selectors
from tests.factories import (
    JobCardFactory,
    PartLineFactory,
    ServiceLineFactory,
    SparePartFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _job_with_parts(**job):
    job = JobCardFactory(**job)
    ServiceLineFactory(job=job)
    PartLineFactory(
        job=job,
        spare_part=SparePartFactory(sale_price=Decimal("45.00"), cost=Decimal("30.00")),
        quantity=Decimal("3"),
    )
    PartLineFactory(
        job=job,
        spare_part=SparePartFactory(sale_price=Decimal("20.00"), cost=Decimal("12.35")),
        quantity=Decimal("1.5"),
    )
    return job


def _text(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">(.*?)</dd>', html)
    assert match, testid
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_parts_margin_counts_parts_only_at_todays_catalogue_cost():
    job = _job_with_parts()

    parts = selectors.jobcard_totals(lines=selectors.jobcard_lines(job=job)).parts

    # 3 × 45.00 + 1.5 × 20.00 sold; 3 × 30.00 + 1.5 × 12.35 = 90.00 + 18.525 → 18.53 cost.
    assert (parts.count, parts.net, parts.cost) == (2, Decimal("165.00"), Decimal("108.53"))
    assert parts.margin == Decimal("56.47")
    assert parts.margin_percent == Decimal("34.22")


def test_parts_sold_at_a_loss_or_for_nothing():
    job = JobCardFactory()
    PartLineFactory(
        job=job,
        spare_part=SparePartFactory(sale_price=Decimal("0.00"), cost=Decimal("7.10")),
        unit_price=Decimal("0.00"),
    )

    parts = selectors.jobcard_totals(lines=selectors.jobcard_lines(job=job)).parts

    assert (parts.net, parts.cost, parts.margin) == (
        Decimal("0.00"),
        Decimal("7.10"),
        Decimal("-7.10"),
    )
    assert parts.margin_percent is None


@pytest.mark.parametrize("role", [roles.ACCOUNTANT, roles.FINANCE_MANAGER, roles.ADMIN])
def test_roles_that_may_see_costs_see_the_parts_cost_and_margin(role):
    job = _job_with_parts()
    client = Client()
    client.force_login(UserFactory(role=role))

    html = client.get(reverse("garage:job_detail", args=[job.pk])).content.decode()

    assert _text(html, "parts-net") == "165.00"
    assert _text(html, "parts-cost") == "108.53"
    assert _text(html, "parts-margin-amount") == "56.47 (34.22%)"


@pytest.mark.parametrize("role", [roles.ADVISOR, roles.TECHNICIAN])
def test_other_roles_see_no_cost_on_the_job_or_the_part(role):
    user = UserFactory(role=role)
    job = _job_with_parts(technician=user)
    part = job.lines.filter(spare_part__isnull=False).first().spare_part
    client = Client()
    client.force_login(user)

    job_html = client.get(reverse("garage:job_detail", args=[job.pk])).content.decode()
    part_html = client.get(reverse("garage:part_detail", args=[part.pk])).content.decode()

    assert 'data-testid="job-lines-table"' in job_html
    assert "parts-margin" not in job_html
    assert "108.53" not in job_html
    assert 'data-testid="part-cost"' not in part_html
    assert "30.00" not in part_html


def test_the_lines_fragment_htmx_swaps_in_keeps_the_margin_for_the_accountant():
    job = _job_with_parts()
    client = Client()
    client.force_login(UserFactory(role=roles.ACCOUNTANT))

    html = client.get(
        reverse("garage:job_detail", args=[job.pk]), headers={"HX-Request": "true"}
    ).content.decode()

    assert html.startswith('<section id="job-lines"')
    assert _text(html, "parts-margin-amount") == "56.47 (34.22%)"
