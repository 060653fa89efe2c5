"""The data migrations that turned stored text into message codes: nothing is lost either way."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.messages import Message
from invoicing.models import InvoiceStatusChange
from payments.models import QoyodPaymentState
from qoyod_sync.models import (
    QoyodAttempt,
    QoyodConnection,
    QoyodInvoiceSync,
    QoyodSyncStateChange,
    SyncState,
)
from tests.invoicing_factories import InvoiceFactory

pytestmark = pytest.mark.django_db(transaction=True)

MIGRATIONS = [
    ("invoicing", "0006_messages_as_codes"),
    ("payments", "0004_messages_as_codes"),
    ("qoyod_sync", "0003_messages_as_codes"),
]
OLD_REASON = "رفض قيود الطلب (HTTP 422)"


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


def test_stored_text_becomes_legacy_messages_and_back():
    invoice = InvoiceFactory()
    sync = QoyodInvoiceSync.objects.create(
        invoice=invoice, state=SyncState.FAILED, reason_code="sync.retry"
    )
    QoyodSyncStateChange.objects.create(
        sync=sync, from_state=SyncState.SENDING, to_state=SyncState.FAILED,
        reason_code="sync.retry",
    )  # fmt: skip
    QoyodPaymentState.objects.create(invoice=invoice)
    InvoiceStatusChange.objects.create(
        invoice=invoice, from_status="issued", to_status="void",
        note_code="user_text", note_params={"text": "Wrong customer"},
    )  # fmt: skip
    tested = Message("connection.summary", parts=[Message("connection.connected", count=2)])
    QoyodConnection.objects.create(
        base_url="https://qoyod.example", api_key_encrypted="x", api_key_last4="1234",
        last_test_code=tested.code, last_test_params=tested.params,
    )  # fmt: skip
    QoyodAttempt.objects.create(
        invoice=invoice, step=QoyodAttempt.Step.INVOICE, outcome=QoyodAttempt.Outcome.REJECTED,
        detail_code="qoyod.error.rejected", detail_params={"status": 422},
        message="reference: has already been taken",
    )  # fmt: skip
    executor = _executor()
    before = [
        parent.key
        for key in MIGRATIONS
        for parent in executor.loader.graph.node_map[key].parents
        if parent.key[0] == key[0]
    ]
    leaves = executor.loader.graph.leaf_nodes()

    executor.migrate(before)

    old = executor.loader.project_state(before).apps
    old_sync = old.get_model("qoyod_sync", "QoyodInvoiceSync")
    old_change = old.get_model("qoyod_sync", "QoyodSyncStateChange")
    old_note = old.get_model("invoicing", "InvoiceStatusChange")
    old_state = old.get_model("payments", "QoyodPaymentState")
    old_connection = old.get_model("qoyod_sync", "QoyodConnection")
    assert list(old_connection.objects.values_list("last_test_message", flat=True)) == [
        "Connected: 2 warehouses read from Qoyod."
    ]
    # Going back writes the English sentence into the old text columns.
    assert list(old_sync.objects.values_list("reason", flat=True)) == ["Retry"]
    assert list(old_change.objects.values_list("reason", flat=True)) == ["Retry"]
    assert list(old_note.objects.filter(to_status="void").values_list("note", flat=True)) == [
        "Wrong customer"
    ]
    old_attempt = old.get_model("qoyod_sync", "QoyodAttempt")
    assert list(old_attempt.objects.values_list("message", flat=True)) == [
        "Qoyod rejected the request (HTTP 422): reference: has already been taken"
    ]
    old_sync.objects.update(reason=OLD_REASON)
    old_state.objects.update(last_error="Could not refresh from Qoyod: down")

    _executor().migrate(leaves)

    sync = QoyodInvoiceSync.objects.get()
    assert (sync.reason_code, sync.reason_params, sync.reason) == (
        "legacy", {"text": OLD_REASON}, OLD_REASON
    )  # fmt: skip
    change = QoyodSyncStateChange.objects.get()
    assert (change.reason_code, change.reason_params) == ("legacy", {"text": "Retry"})
    note = InvoiceStatusChange.objects.get(to_status="void")
    assert (note.note_code, note.note_params) == ("legacy", {"text": "Wrong customer"})
    connection_row = QoyodConnection.objects.get()
    assert (connection_row.last_test_code, connection_row.last_test_params) == (
        "legacy", {"text": "Connected: 2 warehouses read from Qoyod."}
    )  # fmt: skip
    attempt = QoyodAttempt.objects.get()
    assert (attempt.detail_code, attempt.detail_params, attempt.message) == (
        "legacy",
        {"text": "Qoyod rejected the request (HTTP 422): reference: has already been taken"},
        "",
    )
    state = QoyodPaymentState.objects.get()
    assert (state.last_error_code, state.last_error_params) == (
        "legacy", {"text": "Could not refresh from Qoyod: down"}
    )  # fmt: skip
