"""Statement CSV import: duplicates and malformed lines skipped and listed, bad files refused."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from accounting.models import StatementUpload, Transaction, TransactionEvent
from core import roles
from core.models import Sequence
from tests.accounting_factories import BudgetFactory, TransactionFactory
from tests.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db
UPLOAD = "/accounting/import/"

STATEMENT = (
    "Date,Description,Amount,Reference,VAT\n"
    "01/11/2026,Brake pads,-115.00,REF-100,-15.00\n"
    "02/11/2026,Fuel,-50.00,REF-1,\n"
    "03/11/2026,Customer deposit,200.00,REF-102,\n"
    "01/11/2026,Brake pads,-115.00,REF-100,-15.00\n"
    "31/13/2026,Bad date,-10.00,REF-104,\n"
    "04/11/2026,Bad amount,abc,REF-105,\n"
    "05/11/2026,Zero,0.00,REF-106,\n"
    "06/11/2026,VAT too big,-10.00,REF-107,-20.00\n"
    "01/01/2099,Far ahead,-10.00,REF-108,\n"
    "07/11/2026,Short line\n"
)
MAPPING = {
    "layout": "amount",
    "date": "0",
    "description": "1",
    "amount": "2",
    "reference": "3",
    "vat": "4",
    "date_format": "dd/mm/yyyy",
    "decimal": ".",
}


@pytest.fixture
def branch():
    return BranchFactory()


@pytest.fixture
def accountant():
    return UserFactory(username="accountant", role=roles.ACCOUNTANT)


@pytest.fixture
def client(accountant):
    client = Client()
    client.force_login(accountant)
    return client


def upload(client, content: bytes, *, encoding: str = "utf-8-sig", name: str = "statement.csv"):
    return client.post(
        UPLOAD, {"file": SimpleUploadedFile(name, content, "text/csv"), "encoding": encoding}
    )


def uploaded(client, content: bytes, **kwargs) -> str:
    response = upload(client, content, **kwargs)
    assert response.status_code == 302, response.content.decode()
    return response["Location"]


def untouched() -> bool:
    return (
        not Transaction.objects.exists()
        and not TransactionEvent.objects.exists()
        and not Sequence.objects.filter(name="transaction", last_value__gt=0).exists()
    )


def test_import_skips_duplicates_in_the_file_and_stored_and_lists_malformed_lines(
    client, accountant, branch
):
    stored = TransactionFactory(
        number="EXP-2025-000001", reference="REF-1", date=datetime.date(2026, 11, 2),
        amount=Decimal("50.00"), vat_amount=Decimal("0.00"), branch=branch,
    )  # fmt: skip
    url = uploaded(client, STATEMENT.encode())
    mapping = MAPPING | {"branch": branch.pk}

    preview = client.get(url, mapping)
    response = client.post(url, mapping)

    assert preview.context["preview"].lines[0].line == 2
    assert response.status_code == 302
    result = client.get(url)
    upload_row = StatementUpload.objects.get()
    latest = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    rows = list(
        Transaction.objects.exclude(pk=stored.pk)
        .order_by("number")
        .values_list(
            "number", "kind", "direction", "date", "amount", "vat_amount", "description",
            "reference", "branch_id", "created_by_id",
        )
    )  # fmt: skip
    assert rows == [
        ("EXP-2026-000001", "expense", "out", datetime.date(2026, 11, 1), Decimal("115.00"),
         Decimal("15.00"), "Brake pads", "REF-100", branch.pk, accountant.pk),
        ("EXP-2026-000002", "cash_in", "in", datetime.date(2026, 11, 3), Decimal("200.00"),
         Decimal("0.00"), "Customer deposit", "REF-102", branch.pk, accountant.pk),
    ]  # fmt: skip
    assert Sequence.objects.get(name="transaction", year=2026).last_value == 2
    assert list(TransactionEvent.objects.values_list("kind", "details__line")) == [
        ("created", 2),
        ("created", 4),
    ]
    assert [(d["line"], d["number"], d["first_line"]) for d in upload_row.duplicates] == [
        (3, "EXP-2025-000001", None),
        (5, "", 2),
    ]
    assert [p["text"] for p in result.context["problems"]] == [
        "Line 6: “31/13/2026” is not a date written dd/mm/yyyy.",
        "Line 7: “abc” is not an amount with “.” as decimal separator.",
        "Line 8: the amount 0.00 must be more than zero.",
        "Line 9: the VAT 20.00 is larger than the amount 10.00.",
        f"Line 10: the date 2099-01-01 is after {latest}.",
        "Line 11 has 2 cells; the columns chosen need 5.",
    ]
    assert (upload_row.imported_count, upload_row.first_number, upload_row.last_number) == (
        2,
        "EXP-2026-000001",
        "EXP-2026-000002",
    )
    assert "2 transactions imported" in result.content.decode()


def test_a_second_import_of_the_same_statement_skips_every_line_as_already_stored(client, branch):
    mapping = MAPPING | {"branch": branch.pk}
    client.post(uploaded(client, STATEMENT.encode()), mapping)
    second = uploaded(client, STATEMENT.encode())

    response = client.post(second, mapping)

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "No line of this statement can be imported: every line is a duplicate or has a problem "
        "(listed below)."
    ]
    assert [d["line"] for d in response.context["duplicates"]] == [2, 3, 4, 5]
    assert Transaction.objects.count() == 3
    assert StatementUpload.objects.filter(imported_at__isnull=True).count() == 1


def test_posting_an_imported_statement_again_imports_nothing(client, branch):
    url = uploaded(client, STATEMENT.encode())
    client.post(url, MAPPING | {"branch": branch.pk})

    again = client.post(url, MAPPING | {"branch": branch.pk})

    assert again.status_code == 200
    assert Transaction.objects.count() == 3
    assert Sequence.objects.get(name="transaction", year=2026).last_value == 3


def test_arabic_windows_1256_debit_credit_with_comma_decimals(client, accountant, branch):
    budget = BudgetFactory(name_en="Maintenance", name_ar="صيانة")
    ahmed = UserFactory(username="ahmed")
    content = (
        "التاريخ;البيان;مدين;دائن;المرجع;الميزانية;الموظف\r\n"
        '2026-11-01;قطع غيار فرامل;"1.150,50";;م-1;صيانة;ahmed\r\n'
        "2026-11-02;إيداع نقدي;0,00;2.000,00;م-2;;\r\n"
        "2026-11-03;مبلغ مزدوج;10,00;10,00;م-3;;\r\n"
        "2026-11-04;ميزانية مجهولة;10,00;;م-4;تسويق;\r\n"
    ).encode("windows-1256")
    url = uploaded(client, content, encoding="windows-1256")
    mapping = {
        "layout": "debit_credit", "date": "0", "description": "1", "debit": "2", "credit": "3",
        "reference": "4", "budget": "5", "employee": "6", "date_format": "yyyy-mm-dd",
        "decimal": ",", "branch": branch.pk,
    }  # fmt: skip

    form = client.get(url).context["form"]
    client.post(url, mapping)

    assert {f: form.initial[f] for f in ("date", "debit", "credit", "reference", "budget")} == {
        "date": "0",
        "debit": "2",
        "credit": "3",
        "reference": "4",
        "budget": "5",
    }
    assert form.initial["layout"] == "debit_credit"
    assert list(
        Transaction.objects.order_by("number").values_list(
            "kind", "direction", "amount", "description", "reference", "budget_id", "employee_id"
        )
    ) == [
        ("expense", "out", Decimal("1150.50"), "قطع غيار فرامل", "م-1", budget.pk, ahmed.pk),
        ("cash_in", "in", Decimal("2000.00"), "إيداع نقدي", "م-2", None, None),
    ]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    problems = client.get(url).context["problems"]
    assert [p["text"] for p in problems] == [
        "في السطر 4 مبلغ مدين ومبلغ دائن معًا.",
        "السطر 5: لا توجد ميزانية أو فئة مستخدمة باسم «تسويق».",
    ]


def test_utf8_with_a_byte_order_mark_reads_its_first_column_name(client, branch):
    content = "\ufeffDate,Description,Amount,Reference\n2026-11-01,زيت محرك,-80.00,R1\n"

    url = uploaded(client, content.encode("utf-8"))

    assert StatementUpload.objects.get().header == ["Date", "Description", "Amount", "Reference"]
    client.post(url, MAPPING | {"vat": "", "date_format": "yyyy-mm-dd", "branch": branch.pk})
    assert Transaction.objects.get().description == "زيت محرك"


ARABIC = "التاريخ,البيان,المبلغ,المرجع\n2026-11-01,زيت,-80.00,R1\n"


@pytest.mark.parametrize(
    ("content", "encoding", "refusal"),
    [
        (b"", "utf-8-sig", "statement.csv is empty."),
        (b"\n\n  \n", "utf-8-sig", "statement.csv is empty."),
        (
            b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40,
            "utf-8-sig",
            "statement.csv is not a CSV file (it looks like a spreadsheet, PDF or image): export "
            "the statement as CSV and upload that.",
        ),
        (
            ARABIC.encode("windows-1256"),
            "utf-8-sig",
            "statement.csv cannot be read as UTF-8 (with or without BOM) (byte 1 is not valid "
            "there): choose the encoding it was saved in — Windows-1256 for an Arabic Excel "
            "export.",
        ),
        (
            ARABIC.encode("utf-8"),
            "windows-1256",
            "statement.csv is UTF-8, not Windows-1256 (Arabic Excel): choose UTF-8, or its "
            "Arabic would be garbled.",
        ),
        (
            b"Dear customer\nYour statement is attached.\n",
            "utf-8-sig",
            "statement.csv is not a CSV file: its first line has no columns separated by commas, "
            "semicolons or tabs.",
        ),
        (
            b"Date,Amount,Reference\n",
            "utf-8-sig",
            "statement.csv has a header line but no statement lines.",
        ),
    ],
)
def test_a_file_that_cannot_be_a_statement_is_refused_and_nothing_is_kept(
    client, content, encoding, refusal
):
    response = upload(client, content, encoding=encoding)

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [refusal]
    assert not StatementUpload.objects.exists()
    assert untouched()


@override_settings(STATEMENT_MAX_BYTES=100)
def test_a_file_over_the_size_setting_is_refused(client):
    response = upload(client, b"Date,Amount\n" + b"2026-11-01,-1.00\n" * 10)

    assert response.context["form"].errors["file"] == [
        "statement.csv is larger than 100\xa0bytes: export a shorter period."
    ]
    assert not StatementUpload.objects.exists()


def test_a_50_mb_statement_is_refused_from_its_content_length_before_its_body_is_read(client):
    # The body sent is empty: had the view read it, the form would say "no file" instead.
    response = client.generic(
        "POST",
        UPLOAD,
        b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert response.context["refusal"] == (
        "The file is larger than 5.0\xa0MB: export a shorter period."
    )
    assert not StatementUpload.objects.exists()


def test_a_mapping_without_the_amount_or_with_one_column_twice_is_refused(client, branch):
    url = uploaded(client, STATEMENT.encode())

    no_amount = client.post(url, MAPPING | {"amount": "", "branch": branch.pk})
    twice = client.post(url, MAPPING | {"reference": "1", "branch": branch.pk})
    no_debit = client.post(url, MAPPING | {"layout": "debit_credit", "branch": branch.pk})

    assert no_amount.context["form"].errors == {
        "amount": ["Choose the column that holds the amount."]
    }
    assert twice.context["form"].errors == {
        "__all__": ["A column is chosen for two fields: each column holds one."]
    }
    assert no_debit.context["form"].errors == {
        "debit": ["Choose the column that holds it."],
        "credit": ["Choose the column that holds it."],
    }
    assert untouched()
    assert StatementUpload.objects.get().imported_at is None


def test_a_statement_of_only_bad_lines_imports_nothing(client, branch):
    content = (
        "Date,Description,Amount,Reference\n"
        "2026-11-01,Zero,0,R1\n"
        "2026-11-02,Negative debit,,R2\n"
        "2099-11-02,Far ahead,-5.00,R3\n"
    )
    url = uploaded(client, content.encode())

    response = client.post(
        url, MAPPING | {"vat": "", "date_format": "yyyy-mm-dd", "branch": branch.pk}
    )

    assert [p["line"] for p in response.context["problems"]] == [2, 3, 4]
    assert untouched()
    assert StatementUpload.objects.get().imported_at is None


def test_debit_and_credit_columns_refuse_negative_values(client, branch):
    content = "Date,Description,Debit,Credit,Reference\n2026-11-01,Odd,-5.00,,R1\n"
    url = uploaded(client, content.encode())

    response = client.get(
        url,
        {"layout": "debit_credit", "date": "0", "description": "1", "debit": "2", "credit": "3",
         "reference": "4", "date_format": "yyyy-mm-dd", "decimal": ".", "branch": branch.pk},
    )  # fmt: skip

    assert [p["text"] for p in response.context["problems"]] == [
        "Line 2: the amount -5.00 must be more than zero."
    ]


def test_another_users_upload_is_not_found(client, branch):
    url = uploaded(client, STATEMENT.encode())
    other = Client()
    other.force_login(UserFactory(role=roles.FINANCE_MANAGER))

    assert other.get(url).status_code == 404
    assert other.post(url, MAPPING | {"branch": branch.pk}).status_code == 404
    assert untouched()


@pytest.mark.parametrize("role", [roles.TECHNICIAN, roles.ADVISOR])
def test_staff_without_the_accounting_menu_cannot_import(role):
    client = Client()
    client.force_login(UserFactory(role=role))

    response = upload(client, STATEMENT.encode())

    assert response.status_code == 403
    assert not StatementUpload.objects.exists()
