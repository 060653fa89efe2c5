"""What the garage pages show of numbers and plates: no exponent, plates kept in order, the
duplicate plate told in the reader's language."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from core import roles
from garage.models import Vehicle
from tests.factories import (
    BranchFactory,
    CustomerFactory,
    JobCardFactory,
    PartLineFactory,
    PartStockFactory,
    UserFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

# normalize() writes 20 as 2E+1: stock and quantities stored or summed this way must not show so.
TWENTY = Decimal("2E+1")


def _client(role: str, language: str = "en") -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: language})
    return client


def test_no_decimal_renders_in_exponent_form_on_the_job_part_and_invoice_pages():
    branch = BranchFactory()
    stock = PartStockFactory(branch=branch, quantity=TWENTY)
    job = JobCardFactory(branch=branch)
    PartLineFactory(job=job, spare_part=stock.part, quantity=Decimal("1E+1"))
    client = _client(roles.ADMIN)

    pages = {
        name: client.get(url).content.decode()
        for name, url in {
            "job": reverse("garage:job_detail", args=[job.pk]),
            "part": reverse("garage:part_detail", args=[stock.part.pk]),
            "parts": reverse("garage:part_list"),
        }.items()
    }

    assert {name: "E+" in html for name, html in pages.items()} == {
        "job": False,
        "part": False,
        "parts": False,
    }
    sku, name = f"\u2066{stock.part.sku}\u2069", f"\u2068{stock.part.name_en}\u2069"
    assert f"{sku} · {name} (20 in stock)" in pages["job"]
    assert '<td class="money"><bdi dir="ltr">10</bdi></td>' in pages["job"]
    assert '<td class="money fw-semibold"><bdi dir="ltr">20</bdi></td>' in pages["parts"]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "The plate {plate} is already registered to {customer} ({vehicle})."),
        ("ar", "اللوحة {plate} مسجّلة مسبقًا باسم {customer} ({vehicle})."),
    ],
)
def test_a_duplicate_plate_says_whose_vehicle_has_it(language, message):
    owner = CustomerFactory(name_en="Fahad Otaibi", name_ar="فهد العتيبي")
    VehicleFactory(customer=owner, plate_number="5678 DRS", make="Hyundai", model="Elantra",
                   year=2019)  # fmt: skip
    other = CustomerFactory()
    client = _client(roles.ADVISOR, language)

    with translation.override(language):
        response = client.post(
            reverse("garage:vehicle_create"),
            {"customer": other.pk, "plate_number": "5678 drs", "make": "Kia", "model": "Rio"},
        )

    assert response.status_code == 200
    customer = "فهد العتيبي" if language == "ar" else "Fahad Otaibi"
    expected = message.format(
        plate="\u20665678 DRS\u2069",
        customer=f"\u2068{customer}\u2069",
        vehicle="\u2068Hyundai Elantra 2019\u2069",
    )
    assert expected in response.content.decode()
    assert Vehicle.objects.filter(customer=other).count() == 0


def test_the_vehicle_picker_keeps_the_plate_in_its_order():
    vehicle = VehicleFactory(plate_number="5678 DRS", make="Hyundai", model="Elantra", year=2019)
    client = _client(roles.ADVISOR, "ar")

    with translation.override("ar"):
        response = client.get(reverse("garage:job_create") + f"?customer={vehicle.customer.pk}")

    assert "\u20665678 DRS\u2069 · \u2068Hyundai Elantra 2019\u2069" in response.content.decode()
