"""Writes for the Qoyod connection: save, test (a read), mappings; deleting a voided draft."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from audit.models import AuditEvent
from audit.services import audit_record
from core.messages import Message
from garage.models import Branch
from invoicing.models import Invoice
from qoyod_sync import crypto
from qoyod_sync.client import ClientOptions, QoyodReader, QoyodWriter
from qoyod_sync.connection import base_url_refusal
from qoyod_sync.errors import QoyodError, QoyodNotFound, QoyodUnauthorised
from qoyod_sync.messages import qoyod_error, with_detail, with_qoyod_words
from qoyod_sync.models import (
    BranchWarehouse,
    QoyodAttempt,
    QoyodConnection,
    QoyodInvoiceSync,
)
from qoyod_sync.status import Action, sync_status
from qoyod_sync.types import Account, Tax, Warehouse

STANDARD_VAT_PERCENT = 15


class ConnectionUnusable(ValidationError):
    """The stored connection cannot be used (an address the key may not go to, or no key)."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.reason = message


def connection_get() -> QoyodConnection | None:
    """The one Qoyod connection, or None before it is set up."""
    return QoyodConnection.objects.first()


def _api_key(connection: QoyodConnection) -> str:
    # Checked on every load, not only when saved: the row may have been written some other way.
    if base_url_refusal(connection.base_url) is not None:
        raise ConnectionUnusable(Message("qoyod.address_refused", url=connection.base_url))
    if not connection.api_key_encrypted:
        raise ConnectionUnusable(Message("qoyod.no_key"))
    try:
        return crypto.decrypt(connection.api_key_encrypted)
    except crypto.FieldKeyError:
        # Never fall back to the stored text: it is ciphertext, not a key Qoyod should see.
        raise ConnectionUnusable(Message("qoyod.key_unreadable")) from None


def connection_writer(
    connection: QoyodConnection, *, options: ClientOptions | None = None
) -> QoyodWriter:
    """The writer (with its reader) for the stored connection; raises ConnectionUnusable."""
    return QoyodWriter(
        base_url=connection.base_url,
        api_key=_api_key(connection),
        options=_reporting_key(connection, options),
    )


def connection_reader(
    connection: QoyodConnection, *, options: ClientOptions | None = None
) -> QoyodReader:
    """A read-only client for the stored connection; raises ConnectionUnusable."""
    return QoyodReader(
        base_url=connection.base_url,
        api_key=_api_key(connection),
        options=_reporting_key(connection, options),
    )


def _reporting_key(connection: QoyodConnection, options: ClientOptions | None) -> ClientOptions:
    return replace(options or ClientOptions(), on_key=_key_reporter(connection))


def _key_reporter(connection: QoyodConnection) -> Callable[[bool, str], None]:
    """What the client calls after each answer: marks the key refused, or clears the mark.

    Writes only when the answer changes what the row says, so an ordinary call costs no query.
    """
    flagged = connection.key_refused_at is not None

    def report(refused: bool, request: str) -> None:
        nonlocal flagged
        if refused:
            connection_key_refused(connection=connection, request=request)
            flagged = True
        elif flagged:
            connection_key_accepted(connection=connection)
            flagged = False

    return report


def connection_key_refused(*, connection: QoyodConnection, request: str) -> None:
    """Qoyod answered 401/403: those who manage the connection see a banner on every page."""
    connection.key_refused_at = timezone.now()
    connection.key_refused_request = request[:200]
    QoyodConnection.objects.filter(pk=connection.pk).update(
        key_refused_at=connection.key_refused_at,
        key_refused_request=connection.key_refused_request,
    )


def connection_key_accepted(*, connection: QoyodConnection) -> None:
    """Qoyod accepted the key again: the banner goes."""
    connection.key_refused_at = None
    connection.key_refused_request = ""
    QoyodConnection.objects.filter(pk=connection.pk).update(
        key_refused_at=None, key_refused_request=""
    )


@sensitive_variables("api_key")
def connection_save(*, base_url: str, api_key: str, user: User | None) -> QoyodConnection:
    """Create or update the connection; a blank key keeps the one saved for the same address.

    A new address without a new key removes the saved key: the key was entered for the old
    address, and it must not follow the address to wherever it now points.
    """
    base_url = base_url.strip().rstrip("/")
    api_key = api_key.strip()
    refusal = base_url_refusal(base_url)
    if refusal is not None:
        raise ValidationError({"base_url": [refusal]})
    with transaction.atomic():
        connection = QoyodConnection.objects.select_for_update().first()
        if connection is None:
            if not api_key:
                raise ValidationError({"api_key": [_("Paste the API key from Qoyod.")]})
            connection = QoyodConnection()
        # The key itself is never audited: only that it changed, and its last four characters.
        before = {"base_url": connection.base_url, "key_last4": connection.api_key_last4}
        key_before = connection.api_key_encrypted
        if connection.base_url and connection.base_url != base_url:
            # Another address may be another company: what the last test read is not its.
            connection.catalogue = {}
            connection.last_test_ok = None
            connection.api_key_encrypted = ""
            connection.api_key_last4 = ""
        if api_key:
            connection.api_key_encrypted = crypto.encrypt(api_key)
            connection.api_key_last4 = api_key[-4:]
            connection.last_test_ok = None
        connection.base_url = base_url
        connection.updated_by = user
        connection.save()
        audit_record(actor=user, action=AuditEvent.Action.QOYOD_CONNECTION_SAVE, obj=connection,
                     before=before, after={
                         "base_url": connection.base_url, "key_last4": connection.api_key_last4,
                         "key_changed": connection.api_key_encrypted != key_before,
                     })  # fmt: skip
    return connection


def _catalogue(reader: QoyodReader) -> dict[str, Any]:
    warehouses = reader.list_warehouses()
    taxes = reader.list_taxes()
    units = reader.list_units()
    categories = reader.list_categories()
    accounts = reader.list_accounts()
    reasons = reader.list_special_tax_reasons()
    return {
        "warehouses": catalogue_warehouses(warehouses),
        "taxes": catalogue_taxes(taxes),
        "special_tax_reasons": [
            {"id": r.id, "code": r.code, "category": r.category} for r in reasons
        ],
        "units": [{"id": u.id, "name": u.unit_name} for u in units],
        "categories": [{"id": c.id, "name": c.name} for c in categories],
        "accounts": catalogue_accounts(accounts),
    }


def catalogue_warehouses(warehouses: Iterable[Warehouse]) -> list[dict[str, Any]]:
    return [
        {"id": w.id, "name": w.name, "ar_name": w.ar_name, "is_default": w.is_default}
        for w in warehouses
    ]


def catalogue_taxes(taxes: Iterable[Tax]) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "name": t.name_en or t.name_ar,
            "percentage": str(t.percentage),
            # Matched against a reason's category when a zero-rated or exempt product is made.
            "code": t.code,
        }
        for t in taxes
    ]


def catalogue_accounts(accounts: Iterable[Account]) -> list[dict[str, Any]]:
    # Only what can take a product's sales or its cost of goods sold.
    return [
        {"id": a.id, "code": a.code, "name": a.name_en or a.name_ar, "type": a.type}
        for a in accounts
        if a.type in ("Revenue", "Expense") and a.is_active
    ]


def connection_catalogue_merge(
    *, warehouses: list[Warehouse], taxes: list[Tax], accounts: list[Account]
) -> dict[str, dict[str, int]]:
    """Store what a configuration sync read in the catalogue; per part, what changed.

    Runs inside the caller's transaction. Units and categories keep what Test connection read.
    """
    connection = QoyodConnection.objects.select_for_update().first()
    if connection is None:
        raise ValidationError(_("Save the Qoyod API key first."))
    fresh = {
        "warehouses": catalogue_warehouses(warehouses),
        "taxes": catalogue_taxes(taxes),
        "accounts": catalogue_accounts(accounts),
    }
    counts = {}
    for part, rows in fresh.items():
        before = {row["id"]: row for row in connection.catalogue.get(part, [])}
        after = {row["id"]: row for row in rows}
        counts[part] = {
            "new": len(after.keys() - before.keys()),
            "updated": sum(1 for k in after.keys() & before.keys() if after[k] != before[k]),
            "removed": len(before.keys() - after.keys()),
            "total": len(after),
        }
    connection.catalogue = {**connection.catalogue, **fresh}
    connection.save(update_fields=["catalogue", "updated_at"])
    # A renamed warehouse shows its new name on the branches mapped to it.
    for row in fresh["warehouses"]:
        BranchWarehouse.objects.filter(qoyod_inventory_id=row["id"]).exclude(
            name=row["name"]
        ).update(name=row["name"])
    return counts


def _apply_defaults(connection: QoyodConnection, catalogue: Mapping[str, Any]) -> list[Message]:
    """Fill choices nobody made yet where Qoyod leaves only one sensible answer."""
    filled = []
    if connection.tax_id is None:
        standard = [t for t in catalogue["taxes"] if float(t["percentage"]) == STANDARD_VAT_PERCENT]
        if standard:
            connection.tax_id = standard[0]["id"]
            filled.append(Message("connection.field.tax"))
    if connection.unit_id is None and catalogue["units"]:
        connection.unit_id = catalogue["units"][0]["id"]
        filled.append(Message("connection.field.unit"))
    if connection.category_id is None and catalogue["categories"]:
        connection.category_id = catalogue["categories"][0]["id"]
        filled.append(Message("connection.field.category"))
    return filled


def _map_unmapped_branches(connection: QoyodConnection, catalogue: Mapping[str, Any]) -> int:
    """Map branches nobody mapped yet where the choice is obvious; returns how many.

    With one Qoyod warehouse there is nothing to choose. A sandbox (test) company gets its
    default warehouse so a trial works after one Test connection; a real company with several
    warehouses is left for the finance manager, because stock per branch matters there.
    """
    warehouses = catalogue["warehouses"]
    if len(warehouses) == 1:
        chosen = warehouses[0]
    elif connection.is_sandbox:
        chosen = next((w for w in warehouses if w["is_default"]), None)
    else:
        chosen = None
    if chosen is None:
        return 0
    unmapped = list(Branch.objects.filter(is_active=True, qoyod_warehouse__isnull=True))
    BranchWarehouse.objects.bulk_create(
        BranchWarehouse(branch=branch, qoyod_inventory_id=chosen["id"], name=chosen["name"])
        for branch in unmapped
    )
    return len(unmapped)


def connection_test(*, user: User | None, options: ClientOptions | None = None) -> QoyodConnection:
    """Read warehouses, taxes, units, categories and accounts from Qoyod (never writes there)."""
    connection = connection_get()
    if connection is None:
        raise ValidationError(_("Save the Qoyod API key first."))
    # Reads first, outside any transaction; the result is recorded after.
    ok, catalogue = False, None
    try:
        catalogue = _catalogue(connection_reader(connection, options=options))
    except ConnectionUnusable as exc:
        parts = [exc.reason]
    except QoyodUnauthorised:
        parts = [Message("connection.key_refused")]
    except QoyodError as exc:
        parts = [with_detail("connection.read_failed", exc)]
    else:
        ok = True
        parts = [Message("connection.connected", count=len(catalogue["warehouses"]))]
    with transaction.atomic():
        connection = QoyodConnection.objects.select_for_update().get(pk=connection.pk)
        if catalogue is not None:
            connection.catalogue = catalogue
            filled = _apply_defaults(connection, catalogue)
            mapped = _map_unmapped_branches(connection, catalogue)
            if filled:
                parts.append(Message("connection.defaults_chosen", what=filled))
            if mapped:
                parts.append(Message("connection.branches_mapped", count=mapped))
        summary = Message("connection.summary", parts=parts)
        connection.last_tested_at = timezone.now()
        connection.last_test_ok = ok
        connection.last_test_code, connection.last_test_params = summary.code, summary.params
        connection.last_test_qoyod_message = parts[0].qoyod_message
        connection.save()
    return connection


def connection_ensure_catalogue(
    *, connection: QoyodConnection, options: ClientOptions | None = None
) -> QoyodConnection:
    """On the first send after setup, read what Test connection reads (lazily, reads only); a
    catalogue read before special tax reasons were kept is read again once."""
    if connection.last_tested_at is not None and "special_tax_reasons" in connection.catalogue:
        return connection
    return connection_test(user=None, options=options)


def connection_mappings_save(
    *,
    warehouses: Mapping[int, int | None],
    tax_id: int | None,
    unit_id: int | None,
    category_id: int | None,
    sales_account_id: int | None,
    cogs_account_id: int | None,
    payment_method: int | None,
    user: User | None,
) -> QoyodConnection:
    """Save each branch's Qoyod warehouse, the defaults used to create products, and the payment
    method printed on drafts."""
    connection = connection_get()
    if connection is None:
        raise ValidationError(_("Save the Qoyod API key first."))
    names = {w["id"]: w["name"] for w in connection.catalogue.get("warehouses", [])}
    with transaction.atomic():
        before = _mappings(connection)
        for branch_id, inventory_id in warehouses.items():
            if inventory_id is None:
                BranchWarehouse.objects.filter(branch_id=branch_id).delete()
            else:
                BranchWarehouse.objects.update_or_create(
                    branch_id=branch_id,
                    defaults={
                        "qoyod_inventory_id": inventory_id,
                        "name": names.get(inventory_id, ""),
                    },
                )
        connection.tax_id, connection.unit_id = tax_id, unit_id
        connection.category_id = category_id
        connection.sales_account_id, connection.cogs_account_id = sales_account_id, cogs_account_id
        connection.payment_method = payment_method
        connection.updated_by = user
        # Only what this form sets: the row was read before the transaction, and a send may
        # have marked the key refused since (connection_key_refused).
        connection.save(update_fields=[*_MAPPING_FIELDS, "updated_by", "updated_at"])
        audit_record(actor=user, action=AuditEvent.Action.QOYOD_MAPPINGS_SAVE, obj=connection,
                     before=before, after=_mappings(connection))  # fmt: skip
    return connection


_MAPPING_FIELDS = (
    "tax_id", "unit_id", "category_id", "sales_account_id", "cogs_account_id", "payment_method",
)  # fmt: skip


def connection_stock_accounts_save(
    *, gain_account_id: int | None, loss_account_id: int | None, user: User | None
) -> QoyodConnection:
    """Save the accounts Sync stock to Qoyod posts count gains and losses to (qoyod-api.md §4.4)."""
    connection = connection_get()
    if connection is None:
        raise ValidationError(_("Save the Qoyod API key first."))
    before = _stock_accounts(connection)
    connection.stock_gain_account_id = gain_account_id
    connection.stock_loss_account_id = loss_account_id
    after = _stock_accounts(connection)
    if after != before:
        with transaction.atomic():
            connection.updated_by = user
            connection.save(update_fields=[*after, "updated_by", "updated_at"])
            audit_record(actor=user, action=AuditEvent.Action.QOYOD_MAPPINGS_SAVE,
                         obj=connection, before=before, after=after)  # fmt: skip
    return connection


def _stock_accounts(connection: QoyodConnection) -> dict[str, Any]:
    return {
        "stock_gain_account_id": connection.stock_gain_account_id,
        "stock_loss_account_id": connection.stock_loss_account_id,
    }


def _mappings(connection: QoyodConnection) -> dict[str, Any]:
    """The mappings as the audit trail records them: each branch's warehouse and the defaults."""
    return {
        "warehouses": {
            str(branch_id): inventory_id
            for branch_id, inventory_id in BranchWarehouse.objects.order_by("branch_id")
            .values_list("branch_id", "qoyod_inventory_id")
        },
        "tax_id": connection.tax_id, "unit_id": connection.unit_id,
        "category_id": connection.category_id, "sales_account_id": connection.sales_account_id,
        "cogs_account_id": connection.cogs_account_id, "payment_method": connection.payment_method,
    }  # fmt: skip


def invoice_qoyod_draft_delete(
    *, invoice: Invoice, user: User | None, options: ClientOptions | None = None
) -> None:
    """Delete the Qoyod draft of an invoice voided here, if Qoyod still holds it as a draft."""
    sync = QoyodInvoiceSync.objects.filter(invoice=invoice).first()
    refusal = sync_status(invoice, sync).refusal(Action.DELETE_DRAFT)
    if refusal is not None:
        raise ValidationError(refusal)
    assert sync is not None and sync.qoyod_invoice_id is not None, "offered only with a draft"
    connection = connection_get()
    if connection is None:
        raise ValidationError(_("Qoyod is not connected."))
    writer = connection_writer(connection, options=options)
    qoyod_id = sync.qoyod_invoice_id
    try:
        remote = writer.reader.get_invoice(qoyod_id)
    except QoyodNotFound:
        remote = None
    except QoyodError as exc:
        detail = qoyod_error(exc)
        raise ValidationError(
            with_qoyod_words(
                _("Could not check the draft in Qoyod: %(error)s") % {"error": detail},
                detail.qoyod_message,
            )
        ) from exc
    if remote is not None and not remote.is_draft:
        raise ValidationError(
            _(
                "Qoyod invoice %(id)s is %(status)s, not a draft: it cannot be deleted; handle it "
                "in Qoyod (for example with a credit note)."
            )
            % {"id": qoyod_id, "status": remote.status}
        )
    if remote is not None:
        refused: QoyodNotFound | None = None
        try:
            writer.delete_draft_invoice(qoyod_id)
        except QoyodNotFound as exc:
            # Either someone deleted it in Qoyod since our read, or this tenant has no such
            # route (DELETE /invoices/{id} is not in the published YAML): the GET below decides.
            refused = exc
        except QoyodError as exc:
            detail = qoyod_error(exc)
            QoyodAttempt.objects.create(
                invoice=invoice, step=QoyodAttempt.Step.DELETE, target=str(qoyod_id),
                outcome=QoyodAttempt.Outcome.FAILED, http_status=exc.status_code,
                detail_code=detail.code, detail_params=detail.params,
                message=detail.qoyod_message, qoyod_id=qoyod_id, user=user,
            )  # fmt: skip
            audit_record(
                actor=user, action=AuditEvent.Action.QOYOD_DRAFT_DELETE, obj=invoice,
                after={"qoyod_id": qoyod_id, "outcome": QoyodAttempt.Outcome.FAILED,
                       "http_status": exc.status_code, "detail_code": detail.code},
            )  # fmt: skip
            raise ValidationError(
                with_qoyod_words(
                    _("Qoyod did not delete the draft: %(error)s") % {"error": detail},
                    detail.qoyod_message,
                )
            ) from exc
        unconfirmed = _delete_unconfirmed(writer.reader, qoyod_id)
        if unconfirmed is not None:
            QoyodAttempt.objects.create(
                invoice=invoice, step=QoyodAttempt.Step.DELETE, target=str(qoyod_id),
                outcome=QoyodAttempt.Outcome.UNCONFIRMED,
                http_status=refused.status_code if refused else None,
                detail_code=unconfirmed.code, detail_params=unconfirmed.params,
                message=unconfirmed.qoyod_message, qoyod_id=qoyod_id, user=user,
            )  # fmt: skip
            audit_record(
                actor=user, action=AuditEvent.Action.QOYOD_DRAFT_DELETE, obj=invoice,
                after={"qoyod_id": qoyod_id, "outcome": QoyodAttempt.Outcome.UNCONFIRMED,
                       "detail_code": unconfirmed.code},
            )  # fmt: skip
            # Not recorded as deleted: the draft stays offered for deletion, and read back.
            raise ValidationError(with_qoyod_words(unconfirmed.render(), unconfirmed.qoyod_message))
    attempt = QoyodAttempt.objects.create(
        invoice=invoice, step=QoyodAttempt.Step.DELETE, target=str(qoyod_id),
        # Already gone is said by the outcome, shown in the reader's language: the message
        # column holds only what Qoyod answered.
        outcome=QoyodAttempt.Outcome.OK if remote is not None else QoyodAttempt.Outcome.ABSENT,
        qoyod_id=qoyod_id, user=user,
    )  # fmt: skip
    audit_record(actor=user, action=AuditEvent.Action.QOYOD_DRAFT_DELETE, obj=invoice,
                 after={"qoyod_id": qoyod_id, "outcome": attempt.outcome})  # fmt: skip
    QoyodInvoiceSync.objects.filter(pk=sync.pk, draft_deleted_at__isnull=True).update(
        draft_deleted_at=timezone.now()
    )


def _delete_unconfirmed(reader: QoyodReader, qoyod_id: int) -> Message | None:
    """None when a GET says the draft is gone; else why the delete is not confirmed.

    A DELETE's own answer proves nothing: a tenant may answer 200 and keep the draft, or 404
    because it has no such route while the draft is still there.
    """
    try:
        reader.get_invoice(qoyod_id)
    except QoyodNotFound:
        return None
    except QoyodError as exc:
        return with_detail("delete.unconfirmed_check", exc, id=qoyod_id)
    return Message("delete.unconfirmed", id=qoyod_id)
