"""Messages stored as a code and parameters and put into words in the reader's language."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from core import messages, roles
from core.messages import LEGACY, Message, render
from invoicing.models import InvoiceStatusChange
from qoyod_sync.models import FailureKind, QoyodInvoiceSync, SyncState
from tests import factories
from tests.invoicing_factories import InvoiceFactory

pytestmark = pytest.mark.django_db

QOYOD_SAID = "sku: has already been taken"


def _client(role: str, language: str) -> Client:
    client = Client()
    client.force_login(factories.UserFactory(role=role))
    client.cookies["django_language"] = language
    return client


def _failed_sync() -> QoyodInvoiceSync:
    reason = Message(
        "send.refused",
        doing=Message("step.product_create", sku="FLT-9"),
        error=Message("qoyod.error.rejected", status=422),
        qoyod_message=QOYOD_SAID,
    )
    return QoyodInvoiceSync.objects.create(
        invoice=InvoiceFactory(requires_qoyod=True), state=SyncState.FAILED,
        failure_kind=FailureKind.REJECTED, reason_code=reason.code, reason_params=reason.params,
        qoyod_message=reason.qoyod_message, attempts=1, last_attempt_by=factories.UserFactory(),
    )  # fmt: skip


def test_one_stored_reason_reads_in_each_readers_language():
    sync = QoyodInvoiceSync.objects.get(pk=_failed_sync().pk)

    assert (sync.reason_code, sync.reason_params) == (
        "send.refused",
        {
            "doing": {"code": "step.product_create", "params": {"sku": "FLT-9"}},
            "error": {"code": "qoyod.error.rejected", "params": {"status": 422}},
        },
    )
    with translation.override("en"):
        assert sync.reason == (
            "Qoyod refused creating product FLT-9: Qoyod rejected the request (HTTP 422)"
        )
    with translation.override("ar"):
        assert sync.reason == "رفض قيود طلب إنشاء المنتج FLT-9: رفض قيود الطلب (HTTP 422)"
    # Qoyod's own words are never translated.
    assert sync.qoyod_message == QOYOD_SAID


def test_a_history_note_shows_the_payment_method_in_the_readers_language():
    invoice = InvoiceFactory()
    note = Message("payment.recorded", method="cash", amount=Decimal("100.00"))
    change = InvoiceStatusChange.objects.create(
        invoice=invoice, from_status="issued", to_status="partially_paid",
        note_code=note.code, note_params=note.params,
    )  # fmt: skip

    change.refresh_from_db()
    assert change.note_params == {"method": "cash", "amount": "100.00"}
    with translation.override("en"):
        assert change.note == "Cash payment of 100.00 SAR"
    with translation.override("ar"):
        assert change.note == "دفعة (نقدًا) بمبلغ 100.00 ريال"


def test_a_reason_stored_while_browsing_in_arabic_reads_in_english_on_an_english_page():
    invoice = InvoiceFactory(requires_qoyod=True)
    arabic = _client(roles.ACCOUNTANT, "ar")

    response = arabic.post(reverse("qoyod_sync:invoice_send", args=[invoice.pk]), follow=True)

    # The Arabic user was told in Arabic, at the time ...
    assert "اربط قيود أولًا من الإعدادات ← قيود." in response.content.decode()
    sync = QoyodInvoiceSync.objects.get(invoice=invoice)
    assert (sync.state, sync.reason_code, sync.qoyod_message) == (
        SyncState.FAILED,
        "sync.preflight",
        "",
    )
    # ... and the English reader later reads the same row in English.
    english = _client(roles.ACCOUNTANT, "en")
    html = english.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()
    assert "Connect Qoyod in Settings → Qoyod first." in html
    assert "اربط قيود" not in html


def test_qoyods_own_words_are_shown_labelled_and_untranslated_on_an_arabic_page():
    sync = _failed_sync()
    arabic = _client(roles.ACCOUNTANT, "ar")

    html = arabic.get(reverse("invoicing:invoice_detail", args=[sync.invoice_id])).content.decode()

    assert "رفض قيود طلب إنشاء المنتج FLT-9: رفض قيود الطلب (HTTP 422)" in html
    assert (
        '<span class="text-body-secondary">رسالة قيود:</span> '
        '<q dir="auto">sku: has already been taken</q>'
    ) in html
    assert "Qoyod refused" not in html


def test_the_retry_queue_shows_the_reason_in_english_and_qoyods_words_apart():
    _failed_sync()
    english = _client(roles.ACCOUNTANT, "en")

    html = english.get(reverse("qoyod_sync:retry_queue")).content.decode()

    assert "Qoyod refused creating product FLT-9: Qoyod rejected the request (HTTP 422)" in html
    assert (
        '<span class="text-body-secondary">Qoyod\'s message:</span> '
        '<q dir="auto">sku: has already been taken</q>'
    ) in html


def test_old_text_kept_as_legacy_reads_as_it_was_in_every_language():
    for language in ("en", "ar"):
        with translation.override(language):
            assert render(LEGACY, {"text": "قيود رفض الطلب"}) == "قيود رفض الطلب"


def test_an_unregistered_code_or_params_that_do_not_fit_still_say_what_is_stored():
    assert render("sync.from_a_newer_release", {"id": 7}) == "sync.from_a_newer_release id=7"
    assert render("sync.draft_created", {"qoyod_id": 7}) == "sync.draft_created qoyod_id=7"
    assert render("", {}) == ""


def test_a_message_with_an_unknown_code_cannot_be_made_and_codes_register_once():
    with pytest.raises(KeyError):
        Message("sync.no_such_code")
    with pytest.raises(ValueError, match="registered twice"):
        messages.register("sync.retry", "Retry")


class _AnyParams(dict):
    def __missing__(self, key: str) -> int:
        return 2


def test_every_registered_sentence_has_an_arabic_translation():
    untranslated = []
    for code, entry in messages._CATALOGUE.items():
        if isinstance(entry.text, str):
            continue  # stored words (legacy, typed by a user), shown as they are
        with translation.override("en"):
            english = entry.text % _AnyParams()
        with translation.override("ar"):
            arabic = entry.text % _AnyParams()
        if arabic == english:
            untranslated.append(code)
    assert untranslated == []


def test_a_connection_test_summary_reads_in_each_language_with_plurals_and_lists():
    summary = Message(
        "connection.summary",
        parts=[
            Message("connection.connected", count=2),
            Message(
                "connection.defaults_chosen",
                what=[Message("connection.field.tax"), Message("connection.field.unit")],
            ),
            Message("connection.branches_mapped", count=1),
        ],
    )

    with translation.override("en"):
        assert summary.render() == (
            "Connected: 2 warehouses read from Qoyod. Chosen for new products: tax, unit. "
            "1 branch was given Qoyod's default warehouse."
        )
    with translation.override("ar"):
        assert summary.render() == (
            "تم الاتصال: عدد المستودعات المقروءة من قيود 2. "
            "تم الاختيار للمنتجات الجديدة: الضريبة، الوحدة. "
            "عُيّن المستودع الافتراضي في قيود لفرع واحد."
        )
