"""Customer master data over the API: read always (customers:read), written only when the
finance system is the customer master (settings.CUSTOMER_MASTER), validated as the app's form."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from garage.models import ContactPerson, Customer
from tests.api.conftest import caller
from tests.factories import CompanyCustomerFactory, CustomerFactory

pytestmark = pytest.mark.django_db
CUSTOMERS = "/api/v1/customers/"

COMPANY = {
    "external_reference": "ERP-C-7",
    "kind": "company",
    "name_en": "Najd Logistics",
    "name_ar": "نجد للخدمات اللوجستية",
    "phone": "0551234567",
    "email": "ap@najd.example",
    "vat_number": "٣٠٠٠٠٠٠٠٠٠٠٠٠٠٣",
    "cr_number": "1010123456",
    "national_address": {
        "building_number": "1234",
        "street": "King Fahd Road",
        "district": "Olaya",
        "city": "Riyadh",
        "postal_code": "12211",
    },
}


@pytest.fixture
def finance_master(settings):
    settings.CUSTOMER_MASTER = "finance"


def _snapshot() -> list[tuple]:
    return list(Customer.objects.order_by("pk").values_list("pk", "name_en", "phone", "vat_number",
                                                             "updated_at"))  # fmt: skip


def test_the_list_holds_master_data_and_contacts_oldest_change_first(api):
    older = CompanyCustomerFactory(name_en="Older")
    newer = CustomerFactory(name_en="Newer")
    contact = ContactPerson.objects.create(customer=older, name="Sara", phone="+966550000001")
    Customer.objects.filter(pk=older.pk).update(updated_at=timezone.now() - datetime.timedelta(1))
    older.refresh_from_db()

    response = api.get(CUSTOMERS)

    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["results"]] == [older.pk, newer.pk]
    assert body["next"] is None
    first = body["results"][0]
    assert first["vat_number"] == older.vat_number
    assert first["national_address"] == {
        "building_number": "1234", "street": older.street, "district": older.district,
        "city": "Riyadh", "postal_code": older.postal_code,
    }  # fmt: skip
    assert first["contacts"] == [
        {"id": contact.pk, "name": "Sara", "job_title": "", "phone": "+966550000001",
         "email": "", "external_reference": "",
         "created_at": timezone.localtime(contact.created_at).isoformat(),
         "updated_at": timezone.localtime(contact.updated_at).isoformat()}
    ]  # fmt: skip


def test_filters_by_vat_number_phone_reference_and_updated_since_in_any_spelling(api):
    company = CompanyCustomerFactory(external_reference="ERP-C-9")
    person = CustomerFactory(phone="+966551112222")
    Customer.objects.filter(pk=company.pk).update(updated_at=timezone.now() - datetime.timedelta(2))

    by_vat = api.get(CUSTOMERS, {"vat_number": company.vat_number})
    by_phone = api.get(CUSTOMERS, {"phone": "055 111 2222"})
    by_reference = api.get(CUSTOMERS, {"external_reference": "ERP-C-9"})
    since = api.get(
        CUSTOMERS, {"updated_since": (timezone.now() - datetime.timedelta(1)).isoformat()}
    )

    assert [c["id"] for c in by_vat.json()["results"]] == [company.pk]
    assert [c["id"] for c in by_phone.json()["results"]] == [person.pk]
    assert [c["id"] for c in by_reference.json()["results"]] == [company.pk]
    assert [c["id"] for c in since.json()["results"]] == [person.pk]


def test_a_malformed_filter_is_400_in_arabic_too(make_client):
    api = caller(make_client(scopes=["customers:read"])[1], language="ar")

    response = api.get(CUSTOMERS, {"vat_number": "123", "phone": "12"})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "vat_number": ["الرقم الضريبي مكوّن من 15 رقمًا، ويبدأ بالرقم 3 وينتهي به."],
        "phone": [response.json()["errors"]["phone"][0]],
    }
    assert response.json()["errors"]["phone"][0] != (
        "Enter a Saudi mobile number such as 05X XXX XXXX or +966 5X XXX XXXX."
    )


def test_pages_are_cursor_pages(api):
    customers = [CustomerFactory() for _ in range(3)]

    first = api.get(CUSTOMERS, {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert [c["id"] for c in first["results"] + second["results"]] == [c.pk for c in customers]
    assert second["next"] is None


def test_one_customer_by_id_and_an_unknown_one_is_404(api):
    customer = CustomerFactory()

    assert api.get(f"{CUSTOMERS}{customer.pk}/").json()["name_en"] == customer.name_en
    missing = api.get(f"{CUSTOMERS}{customer.pk + 1}/")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_with_the_app_as_master_writes_are_409_and_change_nothing(api):
    customer = CustomerFactory()
    contact = ContactPerson.objects.create(customer=customer, name="Sara")
    before = _snapshot()

    answers = [
        api.post(CUSTOMERS, COMPANY, "json"),
        api.patch(f"{CUSTOMERS}{customer.pk}/", {"name_en": "Changed"}, "json"),
        api.post(f"{CUSTOMERS}{customer.pk}/contacts/", {"name": "Omar"}, "json"),
        api.patch(f"{CUSTOMERS}{customer.pk}/contacts/{contact.pk}/", {"name": "X"}, "json"),
        api.delete(f"{CUSTOMERS}{customer.pk}/contacts/{contact.pk}/"),
    ]

    assert {(a.status_code, a.json()["code"]) for a in answers} == {(409, "customer_master_app")}
    assert answers[0].json()["detail"] == (
        "This app keeps the customer master data: customers are changed by the garage's staff "
        "and only read over the API."
    )
    assert answers[0].json()["params"] == {"customer_master": "app"}
    assert _snapshot() == before
    assert list(ContactPerson.objects.values_list("name", flat=True)) == ["Sara"]


def test_the_refusal_is_in_arabic_for_an_arabic_caller(make_client):
    api = caller(make_client(scopes=["customers:write"])[1], language="ar")

    response = api.post(CUSTOMERS, COMPANY, "json")

    assert response.status_code == 409
    assert response.json()["detail"].startswith("يحتفظ هذا التطبيق")


def test_with_the_finance_system_as_master_it_creates_a_normalised_customer(api, finance_master):
    response = api.post(CUSTOMERS, COMPANY, "json")

    assert response.status_code == 201
    customer = Customer.objects.get()
    assert response.json()["id"] == customer.pk
    assert (customer.external_reference, customer.phone, customer.vat_number, customer.kind) == (
        "ERP-C-7", "+966551234567", "300000000000003", "company",
    )  # fmt: skip
    assert (customer.building_number, customer.postal_code, customer.name_ar) == (
        "1234", "12211", "نجد للخدمات اللوجستية",
    )  # fmt: skip


def test_invalid_master_data_is_400_by_field_and_saves_nothing(api, finance_master):
    body = {**COMPANY, "vat_number": "", "phone": "12345", "cr_number": "12",
            "national_address": {"building_number": "12", "postal_code": "1"}}  # fmt: skip

    response = api.post(CUSTOMERS, body, "json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "phone": ["Enter a Saudi mobile number such as 05X XXX XXXX or +966 5X XXX XXXX."],
        "vat_number": ["A company customer needs a VAT number."],
    }
    assert Customer.objects.count() == 0

    body["phone"], body["vat_number"] = "0551234567", "300000000000003"
    response = api.post(CUSTOMERS, body, "json")

    assert response.json()["errors"] == {
        "cr_number": ["A commercial registration number has 10 digits."],
        "national_address.building_number": ["A building number has 4 digits."],
        "national_address.postal_code": ["A postal code has 5 digits."],
    }
    assert Customer.objects.count() == 0


def test_a_taken_external_reference_is_refused(api, finance_master):
    CustomerFactory(external_reference="ERP-C-7")

    response = api.post(CUSTOMERS, COMPANY, "json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["Another customer already has this finance system's reference."]
    }
    assert Customer.objects.count() == 1


def test_patch_changes_only_the_fields_sent(api, finance_master):
    customer = CompanyCustomerFactory(street="Old street")

    response = api.patch(
        f"{CUSTOMERS}{customer.pk}/",
        {"name_en": "Renamed", "national_address": {"street": "New street"}},
        "json",
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name_en, customer.street, customer.building_number) == (
        "Renamed", "New street", "1234",
    )  # fmt: skip
    assert response.json()["national_address"]["street"] == "New street"


def test_a_bad_patch_changes_nothing(api, finance_master):
    customer = CompanyCustomerFactory()
    before = _snapshot()

    response = api.patch(f"{CUSTOMERS}{customer.pk}/", {"name_en": "X", "vat_number": "1"}, "json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "vat_number": ["A VAT number has 15 digits and starts and ends with 3."]
    }
    assert _snapshot() == before


def test_contact_persons_are_created_changed_and_removed(api, finance_master):
    customer = CustomerFactory()
    url = f"{CUSTOMERS}{customer.pk}/contacts/"

    created = api.post(url, {"name": "Omar", "job_title": "Buyer", "phone": "0559998888"}, "json")
    contact = ContactPerson.objects.get()
    changed = api.patch(f"{url}{contact.pk}/", {"email": "omar@example.com"}, "json")
    listed = api.get(url)
    removed = api.delete(f"{url}{contact.pk}/")

    assert created.status_code == 201
    assert created.json()["phone"] == "+966559998888"
    assert changed.json()["email"] == "omar@example.com"
    assert [c["name"] for c in listed.json()] == ["Omar"]
    assert removed.status_code == 204
    assert ContactPerson.objects.count() == 0


def test_a_contact_with_a_bad_phone_or_of_another_customer_changes_nothing(api, finance_master):
    customer, other = CustomerFactory(), CustomerFactory()
    contact = ContactPerson.objects.create(customer=other, name="Sara")

    bad = api.post(f"{CUSTOMERS}{customer.pk}/contacts/", {"name": "Omar", "phone": "1"}, "json")
    elsewhere = api.delete(f"{CUSTOMERS}{customer.pk}/contacts/{contact.pk}/")

    assert bad.status_code == 400
    assert bad.json()["errors"] == {
        "phone": ["Enter a Saudi mobile number such as 05X XXX XXXX or +966 5X XXX XXXX."]
    }
    assert elsewhere.status_code == 404
    assert list(ContactPerson.objects.values_list("name", flat=True)) == ["Sara"]


def test_reading_customers_does_not_allow_writing_them(make_client, finance_master):
    api = caller(make_client(scopes=["customers:read"])[1])

    response = api.post(CUSTOMERS, COMPANY, "json")

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert Customer.objects.count() == 0


def test_with_the_finance_system_as_master_staff_cannot_change_master_fields(
    admin_client, finance_master
):
    customer = CompanyCustomerFactory(name_en="Kept")

    page = admin_client.get(f"/customers/{customer.pk}/edit/")
    admin_client.post(
        f"/customers/{customer.pk}/edit/",
        {"kind": "individual", "name_en": "Changed", "phone": "0551112233",
         "email": "new@example.com", "vat_number": ""},
    )  # fmt: skip

    assert "are kept in the finance system" in page.content.decode()
    customer.refresh_from_db()
    assert (customer.name_en, customer.kind, customer.phone, customer.email) == (
        "Kept", "company", "+966551112233", "new@example.com",
    )  # fmt: skip
