"""Entering a transaction: gap-free numbers, receipts checked by content, refusals save nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounting.models import Receipt, StaffBranch, Transaction, TransactionEvent
from core import roles
from core.models import Sequence
from tests.accounting_factories import BudgetFactory
from tests.factories import BranchFactory, JobCardFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/accounting/transactions/new/"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def client_for(role: str, branch=None) -> Client:
    user = UserFactory(role=role)
    if branch is not None:
        StaffBranch.objects.create(user=user, branch=branch)
    client = Client()
    client.force_login(user)
    return client


def form(branch, **values):
    data = {
        "kind": "expense",
        "date": "2026-11-20",
        "amount": "115.00",
        "vat_amount": "15.00",
        "payee": "Al Jazira Auto Parts",
        "payee_vat_number": "",
        "description": "Brake pads",
        "branch": branch.pk,
    }
    return data | values


def nothing_saved(media) -> bool:
    return (
        not Transaction.objects.exists()
        and not Receipt.objects.exists()
        and not TransactionEvent.objects.exists()
        and not Sequence.objects.filter(name="transaction", last_value__gt=0).exists()
        and not any(p.is_file() for p in media.rglob("*"))
    )


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (JPEG, "r.jpg", "image/jpeg"),
        (PNG, "r.png", "image/png"),
        (PDF, "r.pdf", "application/pdf"),
        (HEIC, "IMG_0001.HEIC", "image/heic"),
    ],
)
def test_an_expense_is_saved_with_its_receipt_number_and_history(
    content, name, content_type, media
):
    branch = BranchFactory()
    client = client_for(roles.ACCOUNTANT)
    job = JobCardFactory(branch=branch)

    response = client.post(
        URL,
        form(branch, job=job.number, receipts=SimpleUploadedFile(name, content)),
    )

    row = Transaction.objects.get()
    receipt = row.receipts.get()
    assert response.status_code == 302
    assert (row.number, row.kind, row.direction, row.amount, row.vat_amount, row.job) == (
        "EXP-2026-000001",
        "expense",
        "out",
        Decimal("115.00"),
        Decimal("15.00"),
        job,
    )
    assert (receipt.content_type, receipt.size, receipt.original_name) == (
        content_type,
        len(content),
        name,
    )
    assert receipt.file.read() == content
    assert list(row.events.values_list("kind", "details")) == [
        (
            "created",
            {"number": "EXP-2026-000001", "amount": "115.00", "vat_amount": "15.00", "receipts": 1},
        )
    ]


def test_numbers_follow_each_other_per_year():
    branch = BranchFactory()
    client = client_for(roles.ADMIN)
    for date in ("2026-11-20", "2026-11-21", "2025-12-31"):
        client.post(URL, form(branch, date=date))

    assert list(Transaction.objects.order_by("id").values_list("number", flat=True)) == [
        "EXP-2026-000001",
        "EXP-2026-000002",
        "EXP-2025-000001",
    ]


def test_cash_in_is_money_in_and_a_transfer_keeps_its_direction():
    branch = BranchFactory()
    client = client_for(roles.ADMIN)
    client.post(URL, form(branch, kind="cash_in", direction="out", vat_amount="0"))
    client.post(URL, form(branch, kind="transfer", direction="in", vat_amount="0"))

    assert list(Transaction.objects.order_by("id").values_list("kind", "direction")) == [
        ("cash_in", "in"),
        ("transfer", "in"),
    ]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"amount": "-5"}, "amount", "The amount must be more than zero."),
        ({"amount": "0"}, "amount", "The amount must be more than zero."),
        ({"vat_amount": "115.01"}, "vat_amount", "The VAT amount cannot be larger than the amount"),
        ({"vat_amount": "-1"}, "vat_amount", "The VAT amount cannot be negative."),
        ({"payee_vat_number": "123"}, "payee_vat_number", "A VAT number has 15 digits"),
    ],
)
def test_bad_amounts_and_vat_number_are_refused_beside_the_field(values, field, message, media):
    branch = BranchFactory()
    response = client_for(roles.ADMIN).post(
        URL, form(branch, receipts=SimpleUploadedFile("r.jpg", JPEG), **values)
    )

    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert nothing_saved(media)


@override_settings(TRANSACTION_MAX_DAYS_AHEAD=1)
def test_a_date_beyond_the_allowed_days_ahead_is_refused(media):
    branch = BranchFactory()
    today = timezone.localdate()
    late = today + datetime.timedelta(days=2)
    response = client_for(roles.ADMIN).post(URL, form(branch, date=late.isoformat()))

    latest = (today + datetime.timedelta(days=1)).isoformat()
    assert response.context["form"].errors["date"] == [f"The date cannot be after {latest}."]
    assert nothing_saved(media)


def test_a_file_that_is_not_an_image_or_pdf_is_refused_whatever_its_name(media):
    branch = BranchFactory()
    response = client_for(roles.ADMIN).post(
        URL,
        form(
            branch,
            receipts=[
                SimpleUploadedFile("ok.jpg", JPEG),
                SimpleUploadedFile("receipt.jpg", b"MZ\x90\x00 an executable"),
            ],
        ),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["receipts"] == [
        "receipt.jpg is not a JPEG, PNG or HEIC photo or a PDF: a receipt must be one of those."
    ]
    assert "receipt.jpg is not a JPEG" in response.content.decode()
    assert nothing_saved(media)


@override_settings(RECEIPT_MAX_BYTES=50)
def test_a_receipt_over_the_size_limit_is_refused(media):
    branch = BranchFactory()
    response = client_for(roles.ADMIN).post(
        URL, form(branch, receipts=SimpleUploadedFile("big.png", PNG))
    )

    assert response.context["form"].errors["receipts"] == [
        "big.png is larger than 50\xa0bytes: take the photo again at a lower resolution."
    ]
    assert nothing_saved(media)


def test_a_technician_enters_expenses_for_their_own_branch_only(media):
    own, other = BranchFactory(), BranchFactory()
    client = client_for(roles.TECHNICIAN, branch=own)

    page = client.get(URL)
    refused = client.post(URL, form(other))
    saved = client.post(URL, form(own))

    assert list(page.context["form"].fields["branch"].queryset) == [own]
    assert 'capture="environment"' in page.content.decode()
    assert refused.status_code == 200 and "branch" in refused.context["form"].errors
    assert saved.status_code == 302
    assert list(Transaction.objects.values_list("branch", flat=True)) == [own.pk]


def test_staff_without_a_branch_are_told_so():
    page = client_for(roles.ADVISOR).get(URL)

    assert 'data-testid="no-branch"' in page.content.decode()


def test_an_inactive_budget_is_not_offered():
    branch = BranchFactory()
    retired = BudgetFactory(is_active=False)
    response = client_for(roles.ADMIN).post(URL, form(branch, budget=retired.pk))

    assert "budget" in response.context["form"].errors
    assert not Transaction.objects.exists()


def test_a_cost_linked_to_a_job_shows_on_the_job_page():
    branch = BranchFactory()
    job = JobCardFactory(branch=branch)
    client = client_for(roles.ADMIN)
    client.post(URL, form(branch, job=job.number, amount="230.00", vat_amount="30.00"))

    page = client.get(reverse("garage:job_detail", args=[job.pk])).content.decode()

    assert 'data-testid="job-costs"' in page
    assert "EXP-2026-000001" in page and "230.00" in page


@pytest.mark.parametrize(
    ("role", "link"),
    [
        (roles.TECHNICIAN, True),
        (roles.ADVISOR, True),
        (roles.ACCOUNTANT, False),
        (roles.FINANCE_MANAGER, False),
    ],
)
def test_staff_without_the_accounting_menu_reach_the_form_from_new_expense(role, link):
    branch = BranchFactory()
    client = client_for(role, branch=branch)

    items = client.get("/").context["nav_items"]
    page = client.get(URL).content.decode()

    assert [i["url"] for i in items if i["label"] == "New expense"] == ([URL] if link else [])
    assert 'capture="environment"' in page
    assert 'name="viewport"' in page
    if link:
        assert client.get(URL).context["form"].fields["branch"].initial == branch.pk
        assert list(client.get(URL).context["form"].fields["branch"].queryset) == [branch]
