from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import roles
from invoicing.models import Invoice, InvoiceLine
from invoicing.services import LineData, invoice_void
from invoicing.zatca import zatca_qr_base64, zatca_qr_svg
from payments.models import Payment
from qoyod_sync.models import QoyodConnection
from tests.factories import (
    CustomerFactory,
    ServiceItemFactory,
    SparePartFactory,
    UserFactory,
    VehicleFactory,
)
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory, PaymentFactory
from tests.pager import pager_count, pager_link

D = Decimal
pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _client_for(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


@pytest.fixture
def admin_client_() -> Client:
    return _client_for(roles.ADMIN)


@pytest.fixture
def advisor() -> Client:
    return _client_for(roles.ADVISOR)


def _numbers(response) -> list[str]:
    return re.findall(
        r'id="invoice-row-\d+">\s*<td[^>]*><a href="[^"]+">([^<]+)</a>', response.text
    )


def _testid(response, testid: str) -> str:
    # Amounts sit in a left-to-right isolate (the ltr filter).
    found = re.search(rf'data-testid="{testid}">(?:<bdi dir="ltr">)?([^<]*)<', response.text)
    assert found, f"no {testid} in the response"
    return found.group(1)


def _inner(response, testid: str, tag: str) -> str:
    """The markup inside the first <tag data-testid=...>, with the template's indentation cut."""
    found = re.search(rf'data-testid="{testid}">(.*?)</{tag}>', response.text, re.S)
    assert found, f"no {testid} in the response"
    return found.group(1).strip()


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _form_data(job, lines: list[dict], **overrides) -> dict[str, str]:
    today = timezone.localdate()
    data = {
        "customer": str(job.customer_id),
        "vehicle": str(job.vehicle_id),
        "issue_date": today.isoformat(),
        "due_date": today.isoformat(),
        "notes": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
    }
    for index, line in enumerate(lines):
        values = {
            "description_en": "Line",
            "description_ar": "",
            "quantity": "1",
            "discount": "0",
            "vat_percent": "15",
            **line,
        }
        for name, value in values.items():
            data[f"lines-{index}-{name}"] = str(value)
    data.update(overrides)
    return data


def _job_lines(job) -> list[dict]:
    result = []
    for line in job.lines.select_related("service_item", "spare_part"):
        result.append(
            {
                "item": f"{line.kind}:{line.item.pk}",
                "description_en": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
            }
        )
    return result


# The list


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("invoicing:invoice_list"))
    assert response.status_code == 200
    return len(queries)


def test_invoice_list_uses_as_many_queries_for_one_invoice_as_for_fifty(advisor):
    InvoiceFactory()
    advisor.get(reverse("invoicing:invoice_list"))  # session and permission caches warmed
    one = _list_queries(advisor)
    for _ in range(49):
        InvoiceFactory()
    fifty = _list_queries(advisor)

    assert one == fifty
    response = advisor.get(reverse("invoicing:invoice_list"))
    assert len(_numbers(response)) == 25


def test_needs_invoice_uses_as_many_queries_for_one_job_as_for_fifty(advisor):
    url = reverse("invoicing:needs_invoice")
    CompletedJobFactory()
    advisor.get(url)
    with CaptureQueriesContext(connection) as one:
        advisor.get(url)
    for _ in range(49):
        CompletedJobFactory()
    with CaptureQueriesContext(connection) as fifty:
        response = advisor.get(url)

    assert len(one) == len(fifty)
    assert response.text.count('href="/invoices/generate/') == 25


def test_the_needs_invoice_badge_loads_after_the_list(advisor):
    CompletedJobFactory()
    CompletedJobFactory()

    listed = advisor.get(reverse("invoicing:invoice_list"))
    badge = advisor.get(reverse("invoicing:needs_invoice"), {"badge": "1"}, headers=HTMX)

    assert 'hx-get="/invoices/needs-invoice/?badge=1"' in listed.text
    assert badge.text.strip() == (
        '<span class="badge rounded-pill text-bg-warning ms-1" data-testid="needs-count">2</span>'
    )


def test_invoice_list_shows_the_row_with_its_figures(advisor):
    invoice = InvoiceFactory()
    PaymentFactory(invoice=invoice, amount=D("100.00"))

    response = advisor.get(reverse("invoicing:invoice_list"))

    row = re.search(rf'<tr id="invoice-row-{invoice.pk}">(.*?)</tr>', response.text, re.S)
    assert row
    cells = [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
    ]
    assert cells[0] == invoice.number
    assert cells[2:] == [
        invoice.customer_name,
        invoice.vehicle_plate,
        "276.00",
        "100.00",
        "176.00",
        "Partially paid",
        "Not required",
    ]


@pytest.mark.parametrize(
    ("requires_qoyod", "managed", "label"),
    [
        (False, False, "Not required"),
        (True, False, "Ready to send"),
        (True, True, "In Qoyod: Draft"),
    ],
)
def test_the_qoyod_column_says_where_the_invoice_stands(advisor, requires_qoyod, managed, label):
    invoice = InvoiceFactory(requires_qoyod=requires_qoyod)
    Invoice.objects.filter(pk=invoice.pk).update(qoyod_managed=managed)

    response = advisor.get(reverse("invoicing:invoice_list"))

    assert label in response.text


def test_search_by_arabic_plate_letters_finds_the_invoice(advisor):
    wanted = InvoiceFactory(job__vehicle__plate_number="1234 ABJ")
    InvoiceFactory(job__vehicle__plate_number="5678 DRS")
    InvoiceFactory(job__vehicle__plate_number="1234 DRS")
    # The plate's digits in a mobile number do not make a match.
    InvoiceFactory(job__vehicle__plate_number="55 KLN", job__customer__phone="+966551234999")
    url = reverse("invoicing:invoice_list")

    for query in ["ا ب ح ١٢٣٤", "١٢٣٤ ا ب ح", "1234abj", "1234 AB", "ب ح"]:
        response = advisor.get(url, {"q": query})
        assert _numbers(response) == [wanted.number], query


def test_search_by_number_customer_and_mobile(advisor):
    wanted = InvoiceFactory(
        job__customer__name_en="Reem Al-Zahrani",
        job__customer__name_ar="ريم الزهراني",
        job__customer__phone="+966534445566",
    )
    InvoiceFactory()
    url = reverse("invoicing:invoice_list")

    for query in [wanted.number, "zahrani", "الزهراني", "0534445566", "053 444"]:
        assert _numbers(advisor.get(url, {"q": query})) == [wanted.number], query


def test_filters_by_status_branch_and_date(advisor):
    today = timezone.localdate()
    old_day = today.replace(day=1) if today.day > 1 else today
    paid = InvoiceFactory()
    PaymentFactory(invoice=paid, amount=paid.total)
    other_branch = InvoiceFactory()
    old = InvoiceFactory(issue_date=old_day - timezone.timedelta(days=40))
    url = reverse("invoicing:invoice_list")

    assert _numbers(advisor.get(url, {"status": "paid"})) == [paid.number]
    assert _numbers(advisor.get(url, {"branch": other_branch.branch_id})) == [other_branch.number]
    to_date = (old_day - timezone.timedelta(days=1)).isoformat()
    assert _numbers(advisor.get(url, {"issued_to": to_date})) == [old.number]
    assert old.number not in _numbers(advisor.get(url, {"issued_from": today.isoformat()}))


def test_a_technician_cannot_see_invoices():
    client = _client_for(roles.TECHNICIAN)

    assert client.get(reverse("invoicing:invoice_list")).status_code == 403
    assert client.get(reverse("invoicing:needs_invoice")).status_code == 403


# Generate


def test_generate_opens_the_form_prefilled_from_the_job(advisor, settings):
    settings.INVOICE_PAYMENT_TERM_DAYS = 14
    job = CompletedJobFactory()

    response = advisor.get(reverse("invoicing:invoice_generate", args=[job.pk]))

    assert response.status_code == 200
    today = timezone.localdate()
    assert f'value="{today.isoformat()}"' in response.text
    assert f'value="{(today + timezone.timedelta(days=14)).isoformat()}"' in response.text
    assert response.context["formset"].total_form_count() == 2
    assert _testid(response, "grand-total") == "276.00"
    assert _testid(response, "vat-15") == "36.00"
    # No Qoyod connection yet: Requires Qoyod invoice starts unticked.
    assert response.context["form"]["requires_qoyod"].value() is False


def test_requires_qoyod_is_ticked_by_default_when_qoyod_is_connected(advisor):
    QoyodConnection.objects.create(base_url="https://api.qoyod.com/2.0", api_key_last4="0001")
    job = CompletedJobFactory()

    response = advisor.get(reverse("invoicing:invoice_generate", args=[job.pk]))

    assert response.context["form"]["requires_qoyod"].value() is True


def test_saving_the_generated_form_creates_the_invoice_with_exact_totals(advisor):
    job = CompletedJobFactory()
    lines = _job_lines(job)
    lines[1]["quantity"] = "3"

    response = advisor.post(
        reverse("invoicing:invoice_generate", args=[job.pk]), _form_data(job, lines)
    )

    invoice = Invoice.objects.get()
    assert response.status_code == 302
    list_url = reverse("invoicing:invoice_list")
    assert response["Location"] == f"{list_url}?saved={invoice.pk}#invoice-row-{invoice.pk}"
    assert (invoice.net_total, invoice.vat_total, invoice.total) == (
        D("285.00"),
        D("42.75"),
        D("327.75"),
    )
    assert invoice.requires_qoyod is False


def test_generating_twice_for_the_same_job_redirects_to_the_existing_invoice(advisor):
    job = CompletedJobFactory()
    url = reverse("invoicing:invoice_generate", args=[job.pk])
    advisor.post(url, _form_data(job, _job_lines(job)))
    invoice = Invoice.objects.get()
    detail = reverse("invoicing:invoice_detail", args=[invoice.pk])

    again_get = advisor.get(url)
    again_post = advisor.post(url, _form_data(job, _job_lines(job)))

    assert (again_get.status_code, again_get["Location"]) == (302, detail)
    assert (again_post.status_code, again_post["Location"]) == (302, detail)
    assert _messages(again_post)[-1] == f"Job {job.number} already has invoice {invoice.number}."
    assert Invoice.objects.count() == 1


def test_form_errors_are_shown_next_to_the_fields_and_nothing_is_saved(advisor):
    job = CompletedJobFactory()
    lines = _job_lines(job)
    lines[0]["quantity"] = "0"
    lines[1]["discount"] = "500"
    today = timezone.localdate()
    data = _form_data(job, lines, due_date=(today - timezone.timedelta(days=1)).isoformat())

    response = advisor.post(reverse("invoicing:invoice_generate", args=[job.pk]), data)

    assert response.status_code == 200
    formset = response.context["formset"]
    assert formset.forms[0].errors == {"quantity": ["The quantity must be more than zero."]}
    assert formset.forms[1].errors == {
        "discount": ["The discount cannot be more than the line amount."]
    }
    assert response.context["form"].errors == {
        "due_date": ["The due date cannot be before the issue date."]
    }
    assert Invoice.objects.count() == 0


def test_a_vehicle_of_another_customer_is_refused_on_the_form(advisor):
    job = CompletedJobFactory()
    stranger = VehicleFactory()

    response = advisor.post(
        reverse("invoicing:invoice_generate", args=[job.pk]),
        _form_data(job, _job_lines(job), vehicle=str(stranger.pk)),
    )

    assert response.context["form"].errors == {
        "vehicle": ["This vehicle belongs to another customer."]
    }
    assert Invoice.objects.count() == 0


def test_removing_every_line_is_refused(advisor):
    job = CompletedJobFactory()
    data = _form_data(job, _job_lines(job), **{"lines-0-DELETE": "on", "lines-1-DELETE": "on"})

    response = advisor.post(reverse("invoicing:invoice_generate", args=[job.pk]), data)

    assert list(response.context["formset"].non_form_errors()) == [
        "An invoice needs at least one line."
    ]
    assert Invoice.objects.count() == 0


def test_an_accountant_without_add_permission_cannot_generate():
    client = _client_for(roles.TECHNICIAN)
    job = CompletedJobFactory()

    assert client.get(reverse("invoicing:invoice_generate", args=[job.pk])).status_code == 403


# The htmx helpers of the form


def test_preview_returns_exact_totals(advisor):
    job = CompletedJobFactory()
    service = ServiceItemFactory()
    part = SparePartFactory()
    lines = [
        {"item": f"service:{service.pk}", "unit_price": "0.10"},
        {"item": f"service:{service.pk}", "unit_price": "0.10"},
        {"item": f"service:{service.pk}", "unit_price": "0.10"},
        {"item": f"service:{service.pk}", "unit_price": "0.10"},
        {"item": f"part:{part.pk}", "unit_price": "115.00", "price_includes_vat": "on"},
        {"item": f"part:{part.pk}", "unit_price": "50.00", "vat_percent": "0"},
    ]

    response = advisor.post(
        reverse("invoicing:invoice_preview"), _form_data(job, lines), headers=HTMX
    )

    assert response.status_code == 200
    assert _testid(response, "net-total") == "150.40"
    assert _testid(response, "vat-15") == "15.06"
    assert _testid(response, "vat-0") == "0.00"
    assert _testid(response, "vat-total") == "15.06"
    assert _testid(response, "grand-total") == "165.46"
    assert 'data-testid="vat-adjusted"' in response.text
    # Every line's amounts come back for an out-of-band swap into its row.
    assert response.text.count('hx-swap-oob="true"') == 6
    amounts = re.search(r'id="lines-4-amounts".*?</div>\s*</div>', response.text, re.S)[0]
    assert re.findall(r'data-amount="\w+"><bdi dir="ltr">([\d.]+)<', amounts) == [
        "100.00",
        "15.00",
        "115.00",
    ]
    assert Invoice.objects.count() == 0


def test_preview_lists_what_keeps_the_totals_from_being_calculated(advisor):
    job = CompletedJobFactory()
    lines = _job_lines(job)
    lines[1]["quantity"] = "-2"

    response = advisor.post(
        reverse("invoicing:invoice_preview"), _form_data(job, lines), headers=HTMX
    )

    assert 'data-testid="preview-errors"' in response.text
    assert "Line 2, Quantity: The quantity must be more than zero." in response.text
    assert 'data-testid="grand-total"' not in response.text


def test_adding_a_line_returns_a_prefilled_row_and_counts_it(advisor):
    part = SparePartFactory(sale_price=D("35.50"), name_en="Oil filter", name_ar="فلتر زيت")
    data = {"mode": "append", "new_item": f"part:{part.pk}", "lines-TOTAL_FORMS": "2"}

    response = advisor.post(reverse("invoicing:invoice_line_row"), data, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger-After-Settle"] == "lines-changed"
    assert 'name="lines-2-description_en"' in response.text
    assert 'value="Oil filter"' in response.text
    assert 'value="35.50"' in response.text
    assert (
        '<input type="hidden" name="lines-TOTAL_FORMS" id="id_lines-TOTAL_FORMS" value="3" '
        'hx-swap-oob="true">'
    ) in response.text


def test_vehicle_options_list_only_the_customers_vehicles(advisor):
    customer = CustomerFactory()
    mine = VehicleFactory(customer=customer)
    other = VehicleFactory()

    response = advisor.get(
        reverse("invoicing:invoice_vehicle_options"), {"customer": customer.pk}, headers=HTMX
    )

    assert f'value="{mine.pk}"' in response.text
    assert f'value="{other.pk}"' not in response.text


# Edit


def test_edit_saves_through_the_service(advisor):
    invoice = InvoiceFactory()
    lines = _job_lines(invoice.job)[:1]

    response = advisor.post(
        reverse("invoicing:invoice_edit", args=[invoice.pk]), _form_data(invoice.job, lines)
    )

    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.total, invoice.balance) == (D("172.50"), D("172.50"))
    assert invoice.lines.count() == 1
    [(kind, details, user)] = invoice.events.values_list("kind", "details", "created_by")
    assert (kind, user) == ("edited", response.wsgi_request.user.pk)
    assert [(f["field"], f["after"]) for f in details["fields"]] == [
        ("due_date", invoice.due_date.isoformat()),
        ("total", "172.50"),
    ]
    assert (len(details["lines_removed"]), details["lines_added"]) == (1, [])


def test_edit_of_a_paid_invoice_is_refused_with_the_services_message(advisor):
    invoice = InvoiceFactory()
    PaymentFactory(invoice=invoice, amount=D("10.00"))
    url = reverse("invoicing:invoice_edit", args=[invoice.pk])
    expected = (
        f"{invoice.number} already has payments; void is not possible either — issue a credit note."
    )

    opened = advisor.get(url)
    saved = advisor.post(url, _form_data(invoice.job, _job_lines(invoice.job)[:1]))

    assert opened.status_code == 302
    assert _messages(opened) == [expected]
    assert saved.status_code == 200
    assert saved.context["form"].non_field_errors() == [expected]
    invoice.refresh_from_db()
    assert (invoice.total, invoice.lines.count(), invoice.events.count()) == (D("276.00"), 2, 0)


# The invoice page and its actions


def test_invoice_page_shows_lines_totals_history_and_actions():
    client = _client_for(roles.ADMIN)
    invoice = InvoiceFactory()

    response = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk]))

    assert response.status_code == 200
    assert _testid(response, "invoice-total") == "276.00"
    assert _testid(response, "invoice-balance") == "276.00"
    for action in ["Edit", "Record payment", "Print", "Send to customer", "Void…"]:
        assert f">{action}</" in response.text, action
    assert "Reissue</button>" not in response.text


def test_an_accountant_sees_no_payment_or_send_action():
    client = _client_for(roles.ACCOUNTANT)
    invoice = InvoiceFactory()

    response = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk]))

    assert ">Record payment</" not in response.text
    assert ">Send to customer</" not in response.text
    send = client.post(reverse("invoicing:invoice_send", args=[invoice.pk]))
    pay = client.post(reverse("payments:payment_create", args=[invoice.pk]), {})
    assert (send.status_code, pay.status_code) == (403, 403)


def test_void_without_a_reason_shows_the_error_and_changes_nothing():
    client = _client_for(roles.ACCOUNTANT)
    invoice = InvoiceFactory()

    response = client.post(reverse("invoicing:invoice_void", args=[invoice.pk]), {"reason": " "})

    assert response.status_code == 200
    assert response.context["void_form"].errors == {"reason": ["This field is required."]}
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED


def test_voiding_a_paid_invoice_shows_the_credit_note_message():
    client = _client_for(roles.ADMIN)
    invoice = InvoiceFactory()
    PaymentFactory(invoice=invoice, amount=D("20.00"))

    response = client.post(
        reverse("invoicing:invoice_void", args=[invoice.pk]), {"reason": "Wrong customer"}
    )

    assert response.status_code == 200
    assert response.context["void_form"].non_field_errors() == [
        f"{invoice.number} has payments of 20.00 SAR and cannot be voided: issue a credit note "
        "instead."
    ]
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PARTIALLY_PAID


def test_void_and_reissue_redirects_to_the_replacement_and_both_show_the_versions():
    client = _client_for(roles.ACCOUNTANT)
    original = InvoiceFactory()

    response = client.post(
        reverse("invoicing:invoice_void_and_reissue", args=[original.pk]), {"reason": "Wrong VAT"}
    )

    replacement = Invoice.objects.get(replaces=original)
    assert response["Location"] == reverse("invoicing:invoice_detail", args=[replacement.pk])
    for invoice in (original, replacement):
        page = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk]))
        versions = re.search(r'data-testid="versions">(.*?)</ol>', page.text, re.S)[1]
        assert re.findall(r"INV-\d{4}-\d{6}", versions) == [original.number, replacement.number]


def test_reissue_of_a_void_invoice_redirects_to_the_new_one_and_only_once():
    client = _client_for(roles.ACCOUNTANT)
    original = InvoiceFactory()
    invoice_void(invoice=original, reason="Wrong plate", user=None)
    url = reverse("invoicing:invoice_reissue", args=[original.pk])

    first = client.post(url)
    second = client.post(url)

    replacement = Invoice.objects.get(replaces=original)
    detail = reverse("invoicing:invoice_detail", args=[replacement.pk])
    assert (first["Location"], second["Location"]) == (detail, detail)
    assert Invoice.objects.count() == 2


def test_reissue_of_an_invoice_that_is_not_void_shows_the_message():
    client = _client_for(roles.ACCOUNTANT)
    invoice = InvoiceFactory()

    response = client.post(reverse("invoicing:invoice_reissue", args=[invoice.pk]))

    assert _messages(response) == [
        f"Only a void invoice can be reissued; void {invoice.number} first."
    ]
    assert Invoice.objects.count() == 1


def test_post_only_actions_refuse_get():
    client = _client_for(roles.ADMIN)
    invoice = InvoiceFactory()

    for name in ["invoice_void", "invoice_void_and_reissue", "invoice_reissue", "invoice_send"]:
        assert client.get(reverse(f"invoicing:{name}", args=[invoice.pk])).status_code == 405
    assert client.get(reverse("invoicing:invoice_preview")).status_code == 405


def test_send_to_customer_emails_a_link_the_customer_can_open_without_logging_in(advisor):
    invoice = InvoiceFactory()

    response = advisor.post(reverse("invoicing:invoice_send", args=[invoice.pk]))

    assert response.status_code == 302
    assert _messages(response) == [f"{invoice.number} was emailed to {invoice.customer.email}."]
    link = re.search(r"http://testserver(/invoices/shared/\S+/)", mail.outbox[0].body)[1]
    public = Client().get(link)
    assert public.status_code == 200
    assert invoice.number in public.text
    assert Client().get(link.replace(":", "x", 1)).status_code == 404


def test_send_of_a_qoyod_managed_invoice_is_refused_with_a_message(advisor):
    invoice = InvoiceFactory(requires_qoyod=True)
    Invoice.objects.filter(pk=invoice.pk).update(qoyod_managed=True)

    response = advisor.post(reverse("invoicing:invoice_send", args=[invoice.pk]))

    assert response.status_code == 302
    assert _messages(response) == [
        f"{invoice.number} is managed in Qoyod: send it to the customer there, or void and "
        "reissue it here."
    ]
    assert mail.outbox == []


# Print


def test_print_page_carries_the_zatca_qr_of_the_invoice(advisor, settings):
    settings.SELLER_NAME = "ورشة النور"
    settings.SELLER_VAT_NUMBER = "310122393500003"
    invoice = InvoiceFactory()
    payload = zatca_qr_base64(
        seller_name="ورشة النور",
        vat_number="310122393500003",
        timestamp=invoice.created_at,
        total=D("276.00"),
        vat_total=D("36.00"),
    )

    response = advisor.get(reverse("invoicing:invoice_print", args=[invoice.pk]))

    assert response.status_code == 200
    assert f'data-testid="zatca-qr">{zatca_qr_svg(payload)}' in response.text
    assert "<nav" not in response.text
    assert '<span lang="ar">فاتورة ضريبية مبسطة</span>' in response.text
    assert _testid(response, "print-total") == "276.00"


def test_print_page_of_a_qoyod_managed_invoice_is_a_job_summary_without_qr(advisor):
    invoice = InvoiceFactory(requires_qoyod=True)
    Invoice.objects.filter(pk=invoice.pk).update(qoyod_managed=True)

    response = advisor.get(reverse("invoicing:invoice_print", args=[invoice.pk]))

    assert 'data-testid="zatca-qr"' not in response.text
    assert _inner(response, "print-title", "h1") == (
        '<span>Job Summary</span><span lang="ar">ملخص أمر العمل</span>'
    )
    assert _inner(response, "not-tax-invoice", "div") == (
        "<span>Not a tax invoice: Qoyod issues the tax invoice.</span>"
        '<span lang="ar" dir="rtl">ليست فاتورة ضريبية: الفاتورة الضريبية يصدرها قيود.</span>'
    )
    assert "Tax Invoice" not in response.text
    assert "فاتورة ضريبية مبسطة" not in response.text
    assert f"<title>Job summary {invoice.number} · " in response.text
    assert "The tax invoice for this sale is issued by Qoyod" in response.text


def test_print_page_of_an_invoice_kept_here_is_a_tax_invoice_without_the_qoyod_lines(advisor):
    invoice = InvoiceFactory()

    response = advisor.get(reverse("invoicing:invoice_print", args=[invoice.pk]))

    assert _inner(response, "print-title", "h1") == (
        '<span>Simplified Tax Invoice</span><span lang="ar">فاتورة ضريبية مبسطة</span>'
    )
    assert 'data-testid="not-tax-invoice"' not in response.text
    assert 'data-testid="qoyod-note"' not in response.text


def test_print_page_of_an_invoice_waiting_for_qoyod_has_no_qr(advisor):
    invoice = InvoiceFactory(requires_qoyod=True)

    response = advisor.get(reverse("invoicing:invoice_print", args=[invoice.pk]))

    assert 'data-testid="zatca-qr"' not in response.text
    assert "The tax invoice for this sale is issued by Qoyod" in response.text


# Payments


def test_recording_payments_on_the_page(advisor):
    invoice = InvoiceFactory()
    url = reverse("payments:payment_create", args=[invoice.pk])
    today = timezone.localdate().isoformat()

    assert advisor.get(url).status_code == 200
    first = advisor.post(url, {"method": "cash", "amount": "76.00", "paid_on": today})
    over = advisor.post(url, {"method": "card", "amount": "200.01", "paid_on": today})

    assert first.status_code == 302
    assert over.status_code == 200
    assert over.context["form"].errors == {
        "amount": ["That is more than the balance of 200.00 SAR."]
    }
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.balance) == (D("76.00"), D("200.00"))
    assert list(Payment.objects.values_list("amount", flat=True)) == [D("76.00")]


def test_a_qoyod_invoice_cannot_be_paid_here(advisor):
    invoice = InvoiceFactory(requires_qoyod=True)
    url = reverse("payments:payment_create", args=[invoice.pk])

    opened = advisor.get(url)
    posted = advisor.post(
        url, {"method": "cash", "amount": "10.00", "paid_on": timezone.localdate().isoformat()}
    )

    message = (
        f"{invoice.number} is invoiced through Qoyod: record the payment in Qoyod, then refresh."
    )
    assert _messages(opened) == [message]
    assert posted.context["form"].non_field_errors() == [message]
    assert Payment.objects.count() == 0
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 2


# The admin console


def test_admin_console_lists_searches_and_shows_an_invoice_read_only():
    client = Client()
    client.force_login(UserFactory(role=roles.ADMIN, is_staff=True))
    wanted = InvoiceFactory(job__vehicle__plate_number="1234 ABJ")
    other = InvoiceFactory(job__vehicle__plate_number="5678 DRS")
    PaymentFactory(invoice=wanted, amount=D("10.00"))
    changelist = reverse("admin:invoicing_invoice_changelist")

    found = client.get(changelist, {"q": "ا ب ح ١٢٣٤"})
    by_status = client.get(changelist, {"status__exact": "partially_paid"})
    change = client.get(reverse("admin:invoicing_invoice_change", args=[wanted.pk]))
    payments = client.get(reverse("admin:payments_payment_changelist"), {"q": wanted.number})

    assert found.status_code == 200
    assert wanted.number in found.text
    assert other.number not in found.text
    assert wanted.number in by_status.text
    assert other.number not in by_status.text
    assert change.status_code == 200
    assert f'<div class="readonly">{wanted.number}</div>' in change.text
    assert 'name="total"' not in change.text
    assert payments.status_code == 200
    assert wanted.number in payments.text
    assert client.get(reverse("admin:invoicing_invoice_add")).status_code == 403


def test_pagination_links_keep_the_search_and_filters(advisor):
    job = CompletedJobFactory(lines=False)
    item = ServiceItemFactory()
    line = LineData(
        kind="service", item=item, description_en="Check", quantity=D("1"),
        unit_price=D("10.00"), vat_rate=D("0.15"),
    )  # fmt: skip
    for _ in range(26):
        invoice = InvoiceFactory(job=job, lines=[line])
        Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.VOID)

    response = advisor.get(reverse("invoicing:invoice_list"), {"status": "void"})

    following = pager_link(response, "next")
    assert following is not None and following.startswith("?status=void&cursor=")
    second = advisor.get(reverse("invoicing:invoice_list") + following)
    assert [row.status for row in second.context["page"]] == [Invoice.Status.VOID]
    assert pager_count(second) == "26–26 of 26"
