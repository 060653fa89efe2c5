"""The seed's step 8: each verified transaction becomes one journal entry in Qoyod.

Only ever called from a web request a user started (the Sync to Qoyod button, a few rows per
request); never from a task, never automatically. Per transaction:

    pre-flight (no HTTP; a refusal changes nothing)
      → claim (compare-and-set to "sending", with the invoice send's lease)
      → [claimed from unknown: look our number up; ours → linked]
      → POST /journal_entries
      → record the outcome (second short transaction)

The claim, the history rows and the lease are the invoice send's (qoyod_sync.push.state); the
attempt log is its QoyodAttempt. No Qoyod call happens inside a database transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting.models import (
    Account,
    AccountingSettings,
    Receipt,
    SupplierLink,
    Transaction,
    TransactionEvent,
)
from accounting.verification import receipt_missing
from core.messages import Message
from core.money import to_money
from garage.models import Branch
from qoyod_sync.client import ClientOptions, QoyodWriter
from qoyod_sync.errors import (
    QoyodError,
    QoyodMaybeSaved,
    QoyodRejected,
    QoyodUnauthorised,
    accounting_rejected,
    unbalanced_rejected,
)
from qoyod_sync.messages import qoyod_error, with_detail, with_qoyod_words
from qoyod_sync.models import FailureKind, QoyodAttempt
from qoyod_sync.push.state import LEASE, LEASE_MARGIN, StateConflict, compare_and_set
from qoyod_sync.push.steps import attempt_record
from qoyod_sync.services import ConnectionUnusable, connection_get, connection_writer
from qoyod_sync.types import (
    JournalEntry,
    JournalLine,
    NewJournalEntry,
    NewSimpleBill,
    SimpleBill,
)

S = Transaction.SyncState
D = Transaction.Document
# Allowed moves: the invoice send's, without "not required" and reference collisions (a
# journal entry with our number that is not ours is simply not ours: we create our own).
TRANSITIONS: dict[str, set[str]] = {
    S.NOT_SYNCED: {S.SENDING},
    S.FAILED: {S.SENDING},
    S.UNKNOWN: {S.SENDING},
    S.SENDING: {S.SYNCED, S.FAILED, S.UNKNOWN},
    S.SYNCED: set(),
}
SENDABLE = (S.NOT_SYNCED, S.FAILED, S.UNKNOWN)
# The middle of the entry's description (payee, description) is cut to this, so the number
# at its start and the receipts link at its end always fit.
_MIDDLE_MAX = 200
# Statuses of a Qoyod company that approves manual entries (qoyod_sync/sandbox/journal.py).
APPROVAL_STATUSES = ("Awaiting approval", "Approved")


# ---- what pre-flight reads once for many rows -----------------------------------------------


@dataclass(frozen=True)
class Books:
    """The garage's accounting choices, read once for a page or a batch."""

    source: Account | None
    vat: Account | None
    receipt_required: bool
    branch_sources: dict[int, Account]
    warehouses: dict[int, int]
    draft_bills: bool = False
    bill_tax_id: int | None = None
    # approval_in_use, read with the settings.
    approval: bool | None = None

    def source_for(self, branch_id: int) -> Account | None:
        """The branch's own source account first, else the garage's."""
        return self.branch_sources.get(branch_id, self.source)


def books_read() -> Books:
    """Two queries, whatever the number of rows checked against them: the settings with their
    accounts and the last journal entry's Qoyod status (approval_in_use), and the branches with
    their own source account and warehouse."""
    settings = (
        AccountingSettings.objects.select_related("source_account", "vat_account")
        .annotate(last_entry_status=Subquery(_last_entry_status()[:1]))
        .filter(singleton=True)
        .first()
    )
    branches = Branch.objects.select_related("source_account_override__account", "qoyod_warehouse")
    sources, warehouses = {}, {}
    for branch in branches:
        if hasattr(branch, "source_account_override"):
            sources[branch.pk] = branch.source_account_override.account
        if hasattr(branch, "qoyod_warehouse"):
            warehouses[branch.pk] = branch.qoyod_warehouse.qoyod_inventory_id
    return Books(
        source=settings.source_account if settings else None,
        vat=settings.vat_account if settings else None,
        receipt_required=settings.receipt_required if settings else True,
        branch_sources=sources,
        warehouses=warehouses,
        draft_bills=settings.draft_bills if settings else False,
        bill_tax_id=settings.bill_tax_id if settings else None,
        approval=_approval(settings.last_entry_status) if settings else approval_in_use(),
    )


def with_receipt_flag(rows: Any) -> Any:
    """The queryset with `has_receipt`, which pre-flight reads."""
    return rows.annotate(has_receipt=Exists(Receipt.objects.filter(transaction=OuterRef("pk"))))


# ---- pre-flight (no HTTP) -------------------------------------------------------------------


def document_for(*, row: Transaction, books: Books) -> str:
    """What `row` becomes in Qoyod (the one home of this rule).

    A row whose last send may have reached Qoyod keeps the kind that send chose, so its lookup
    searches where that send wrote. Otherwise an expense paid out, with VAT and a supplier VAT
    number, is a draft expense bill when the garage chose so; everything else a journal entry.
    """
    if row.state in (S.UNKNOWN, S.SENDING, S.SYNCED):
        return row.qoyod_document
    as_bill = (
        books.draft_bills
        and row.kind == Transaction.Kind.EXPENSE
        and row.direction == Transaction.Direction.OUT
        and bool(row.payee_vat_number.strip())
        and row.vat_amount > 0
    )
    return D.SIMPLE_BILL if as_bill else D.JOURNAL_ENTRY


def sync_refusals(*, row: Transaction, books: Books) -> list[Message]:
    """Every reason `row` cannot be sent now, without asking Qoyod (the one home of this rule).

    `row` carries `has_receipt` (with_receipt_flag) or a `receipt_count` annotation, and its
    account. Empty when it may be sent.
    """
    if row.state == S.SYNCED:
        code = "bill.synced" if row.qoyod_document == D.SIMPLE_BILL else "journal.synced"
        return [Message(code, id=row.qoyod_entry_id)]
    if row.state == S.SENDING and not _lease_expired(row):
        return [Message("journal.being_sent")]
    if not row.is_verified:
        return [Message("journal.not_verified")]
    if document_for(row=row, books=books) == D.SIMPLE_BILL:
        return _bill_refusals(row=row, books=books)
    problems = []
    if row.account is None:
        problems.append(Message("journal.no_account"))
    elif not row.account.is_active:
        problems.append(Message("journal.account_inactive", account=str(row.account)))
    source = books.source_for(row.branch_id)
    if source is None:
        problems.append(Message("journal.source_missing"))
    elif not source.is_active:
        problems.append(Message("journal.source_inactive", account=str(source)))
    if row.vat_amount > 0:
        if books.vat is None:
            problems.append(Message("journal.vat_account_missing", vat=to_money(row.vat_amount)))
        elif not books.vat.is_active:
            problems.append(Message("journal.vat_account_inactive", account=str(books.vat)))
    if _receipt_missing(row, books):
        problems.append(Message("journal.receipt_missing"))
    if not problems:
        entry = journal_entry_for(row=row, books=books, receipts_url="")
        if not entry.is_balanced or not entry.debits or not entry.credits:
            problems.append(
                Message(
                    "journal.unbalanced",
                    debit=sum((d.amount for d in entry.debits), Decimal(0)),
                    credit=sum((c.amount for c in entry.credits), Decimal(0)),
                )
            )
    return problems


def _bill_refusals(*, row: Transaction, books: Books) -> list[Message]:
    # A bill credits the vendor, not the source account, and Qoyod books its VAT from the tax.
    problems = []
    if row.account is None:
        problems.append(Message("journal.no_account"))
    elif not row.account.is_active:
        problems.append(Message("journal.account_inactive", account=str(row.account)))
    if books.bill_tax_id is None:
        problems.append(Message("bill.tax_missing"))
    if books.warehouses.get(row.branch_id) is None:
        problems.append(Message("bill.warehouse_missing"))
    if _receipt_missing(row, books):
        problems.append(Message("journal.receipt_missing"))
    return problems


def _receipt_missing(row: Transaction, books: Books) -> bool:
    has_receipt = getattr(row, "has_receipt", None)
    if has_receipt is None:
        has_receipt = bool(getattr(row, "receipt_count", 0))
    return receipt_missing(
        has_receipt=has_receipt,
        receipt_lost_reason=row.receipt_lost_reason,
        required=books.receipt_required,
    )


def _lease_expired(row: Transaction) -> bool:
    return row.lease_until is not None and row.lease_until <= timezone.now()


# ---- the entry ------------------------------------------------------------------------------


def receipts_url(*, row: Transaction, site: str) -> str:
    """The absolute address of the transaction's receipts page (`site` is scheme and host)."""
    return site.rstrip("/") + reverse("receipts:page", args=[row.receipts_token])


def journal_entry_for(*, row: Transaction, books: Books, receipts_url: str) -> NewJournalEntry:
    """Money out: debit the account (net) and input VAT, credit the source (gross); money in:
    the mirror image. Zero lines are left out; pre-flight has checked the accounts exist."""
    gross = to_money(row.amount)
    vat = to_money(row.vat_amount)
    net = to_money(gross - vat)
    source = books.source_for(row.branch_id)
    spread = []
    if net and row.account is not None:
        spread.append(JournalLine(account_id=row.account.qoyod_id, amount=net))
    if vat and books.vat is not None:
        spread.append(JournalLine(account_id=books.vat.qoyod_id, amount=vat))
    funded = [JournalLine(account_id=source.qoyod_id, amount=gross)] if source else []
    out = row.direction == Transaction.Direction.OUT
    return NewJournalEntry(
        date=row.date,
        description=entry_description(row=row, receipts_url=receipts_url),
        debits=tuple(spread if out else funded),
        credits=tuple(funded if out else spread),
        inventory_id=books.warehouses.get(row.branch_id),
    )


def entry_description(*, row: Transaction, receipts_url: str) -> str:
    """Our number first (what a lookup searches for), the receipts link last."""
    middle = " · ".join(p for p in (row.payee, row.description) if p)[:_MIDDLE_MAX]
    return " ".join(p for p in (row.number, middle, receipts_url) if p)


def is_ours(*, row: Transaction, found: JournalEntry, expected: NewJournalEntry) -> bool:
    """An entry with our number at the start, our date and exactly our lines.

    The receipts link at the end is not compared: the token may have been replaced since.
    """

    def lines(side: Iterable[Any]) -> list[tuple[int, Decimal]]:
        return sorted((line.account_id, to_money(line.amount)) for line in side)

    return (
        (found.description == row.number or found.description.startswith(row.number + " "))
        and found.date == row.date
        and lines(found.debits) == lines(expected.debits)
        and lines(found.credits) == lines(expected.credits)
    )


def simple_bill_for(
    *, row: Transaction, books: Books, vendor_id: int, receipts_url: str
) -> NewSimpleBill:
    """One line at the gross amount, VAT included, on the assigned account; pre-flight has
    checked the account, the tax and the warehouse exist."""
    assert row.account is not None and books.bill_tax_id is not None
    return NewSimpleBill(
        contact_id=vendor_id,
        reference=row.number,
        issue_date=row.date,
        inventory_id=books.warehouses[row.branch_id],
        expense_account_id=row.account.qoyod_id,
        total_amount=to_money(row.amount),
        tax_id=books.bill_tax_id,
        description=entry_description(row=row, receipts_url=receipts_url),
    )


def bill_is_ours(*, row: Transaction, found: SimpleBill) -> bool:
    """A bill with our number as its reference, our date, our total and our account.

    Qoyod keeps references unique, so only a bill typed by hand with our number fails this.
    """
    accounts = {line.expense_account_id for line in found.lines}
    return (
        found.reference == row.number
        and found.issue_date == row.date
        and to_money(found.total) == to_money(row.amount)
        and row.account is not None
        and accounts == {row.account.qoyod_id}
    )


# ---- the send -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    """How one transaction's sync ended, for the page."""

    pk: int
    number: str
    state: str
    message: str
    entry_id: int | None = None
    entry_status: str = ""
    document: str = D.JOURNAL_ENTRY
    # True when nothing changed because pre-flight or the claim refused it.
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.state == S.SYNCED and not self.refused

    def as_json(self) -> dict[str, Any]:
        return {
            "pk": self.pk,
            "number": self.number,
            "state": self.state,
            "state_label": str(S(self.state).label),
            "message": self.message,
            "entry_id": self.entry_id,
            "entry_status": self.entry_status,
            "document": self.document,
            "document_label": document_label(self.document, self.entry_id),
            "ok": self.ok,
            "refused": self.refused,
        }


class _Stop(Exception):
    def __init__(
        self,
        state: str,
        kind: str,
        reason: Message,
        *,
        entry: JournalEntry | SimpleBill | None = None,
    ) -> None:
        super().__init__(reason.code)
        self.state, self.kind, self.reason, self.entry = state, kind, reason, entry


@dataclass
class _Claim:
    row: Transaction
    user: User | None
    claimed_from: str
    token: str
    lease_until: datetime
    document: str = D.JOURNAL_ENTRY
    posted: bool = False


def transaction_sync(
    *,
    pks: Sequence[int],
    user: User | None,
    site: str,
    options: ClientOptions | None = None,
) -> list[SyncResult]:
    """Send each of these transactions to Qoyod as a journal entry, one after another.

    `site` is the scheme and host the receipts links start with. Rows that pre-flight or the
    claim refuses are reported and left as they were.
    """
    books = books_read()
    rows = with_receipt_flag(
        Transaction.objects.select_related("account").filter(pk__in=pks)
    ).order_by("date", "number")
    return [_sync_one(row=row, books=books, user=user, site=site, options=options) for row in rows]


def _sync_one(
    *, row: Transaction, books: Books, user: User | None, site: str, options: ClientOptions | None
) -> SyncResult:
    _expire_lease(row, user)
    refusals = sync_refusals(row=row, books=books)
    if refusals:
        return _refused(row, Message("journal.preflight", problems=refusals))
    document = document_for(row=row, books=books)
    link = receipts_url(row=row, site=site)
    entry = journal_entry_for(row=row, books=books, receipts_url=link)
    claim = _claim(row, user, document)
    if claim is None:
        row.refresh_from_db()
        refusal = sync_refusals(row=row, books=books) or [Message("journal.being_sent")]
        return _refused(row, refusal[0])
    # Every call for this transaction shares one budget, counted from the claim, so it ends
    # before the lease lapses.
    options = options or ClientOptions()
    options = replace(options, stop_at=time.monotonic() + options.deadline)
    try:
        if document == D.SIMPLE_BILL:
            found = _run_bill(claim, books, link, options)
        else:
            found = _run(claim, entry, options)
    except _Stop as stop:
        return _finish(claim, stop)
    except Exception as exc:
        # A bug or a database error mid-sync: an honest state, not "being sent" until the
        # lease runs out; then let the error surface.
        _finish(
            claim,
            _Stop(
                S.UNKNOWN if claim.posted else S.FAILED,
                FailureKind.TEMPORARY,
                Message("journal.unexpected_error", error=str(exc)),
            ),
        )
        raise
    return _finish(claim, found)


def _refused(row: Transaction, reason: Message) -> SyncResult:
    return SyncResult(
        pk=row.pk, number=row.number, state=row.state, message=reason.render(),
        entry_id=row.qoyod_entry_id, entry_status=row.qoyod_entry_status, refused=True,
        document=row.qoyod_document,
    )  # fmt: skip


def _move(
    row: Transaction,
    *,
    to_state: str,
    user: User | None,
    note: Message,
    expect_token: str | None = None,
    condition: Q | None = None,
    **fields: Any,
) -> None:
    from_state = row.state

    def history(now: datetime) -> None:
        TransactionEvent.objects.create(
            transaction=row, kind=TransactionEvent.Kind.SYNC, user=user,
            details={
                "from": from_state, "to": to_state, "reason_code": note.code,
                "reason_params": note.params, "qoyod_message": note.qoyod_message,
            },
        )  # fmt: skip

    compare_and_set(
        rows=Transaction.objects.filter(pk=row.pk), from_state=from_state, to_state=to_state,
        table=TRANSITIONS, history=history, expect_token=expect_token, condition=condition,
        **fields,
    )  # fmt: skip
    row.refresh_from_db()


def _expire_lease(row: Transaction, user: User | None) -> None:
    """A row still "being sent" after its lease belongs to a request that died mid-sync:
    whatever it sent may have reached Qoyod."""
    if row.state != S.SENDING or not _lease_expired(row):
        return
    when = timezone.localtime(row.last_attempt_at or timezone.now()).strftime("%Y-%m-%d %H:%M")
    try:
        _move(
            row, to_state=S.UNKNOWN, user=user, note=Message("journal.never_finished", when=when),
            condition=Q(lease_until__lte=timezone.now()), failure_kind=FailureKind.OUTCOME_UNKNOWN,
            reason_code="journal.never_finished", reason_params={"when": when},
            lease_until=None, claim_token="",
        )  # fmt: skip
    except StateConflict:
        row.refresh_from_db()


def _claim(row: Transaction, user: User | None, document: str) -> _Claim | None:
    """Compare-and-set to "sending"; None when another request moved the row first."""
    claimed_from, token, now = row.state, uuid.uuid4().hex, timezone.now()
    try:
        _move(
            row, to_state=S.SENDING, user=user, note=Message("journal.send"),
            lease_until=now + LEASE, claim_token=token, attempts=F("attempts") + 1,
            last_attempt_at=now, last_attempt_by=user, qoyod_document=document,
        )  # fmt: skip
    except StateConflict:
        return None
    return _Claim(
        row=row, user=user, claimed_from=claimed_from, token=token, lease_until=now + LEASE,
        document=document,
    )  # fmt: skip


def _writer(claim: _Claim, options: ClientOptions) -> QoyodWriter:
    if_lost = S.UNKNOWN if claim.claimed_from == S.UNKNOWN else S.FAILED
    connection = connection_get()
    if connection is None:
        raise _Stop(if_lost, FailureKind.NOT_CONNECTED, Message("journal.not_connected"))
    try:
        return connection_writer(connection, options=options)
    except ConnectionUnusable as exc:
        raise _Stop(if_lost, FailureKind.NOT_CONNECTED, exc.reason) from None


def _run(claim: _Claim, entry: NewJournalEntry, options: ClientOptions) -> _Stop:
    """The Qoyod calls, with no transaction open: the outcome to record."""
    writer = _writer(claim, options)
    if claim.claimed_from == S.UNKNOWN:
        found = _lookup(claim, writer, entry)
        if found is not None:
            return _Stop(S.SYNCED, "", Message("journal.linked", id=found.id), entry=found)
    return _create(claim, writer, entry)


def _lookup(claim: _Claim, writer: QoyodWriter, entry: NewJournalEntry) -> JournalEntry | None:
    """Our entry, if a send whose answer was lost made it; never another one with our number."""
    row = claim.row
    try:
        found = writer.reader.list_journal_entries(
            date_from=row.date, date_to=row.date, description_contains=row.number
        )
    except QoyodError as exc:
        _attempt(claim, QoyodAttempt.Step.LOOKUP, exc=exc)
        kind = (
            FailureKind.KEY_REJECTED
            if isinstance(exc, QoyodUnauthorised)
            else FailureKind.OUTCOME_UNKNOWN
        )
        raise _Stop(
            S.UNKNOWN, kind, with_detail("journal.lookup_failed", exc, number=row.number)
        ) from None
    ours = [e for e in found if is_ours(row=row, found=e, expected=entry)]
    if not ours:
        _attempt(claim, QoyodAttempt.Step.LOOKUP, outcome=QoyodAttempt.Outcome.ABSENT)
        return None
    # Should two ever be there, the oldest is the one a later audit would keep.
    chosen = min(ours, key=lambda e: e.id)
    _attempt(
        claim, QoyodAttempt.Step.LOOKUP, outcome=QoyodAttempt.Outcome.FOUND, qoyod_id=chosen.id
    )
    return chosen


def _create(claim: _Claim, writer: QoyodWriter, entry: NewJournalEntry) -> _Stop:
    # A call that starts in time also ends inside the lease: the transport stops it by then.
    if timezone.now() + LEASE_MARGIN > claim.lease_until:
        raise _Stop(S.FAILED, FailureKind.TEMPORARY, Message("journal.lease_ran_out"))
    claim.posted = True
    try:
        created = writer.create_journal_entry(entry)
    except QoyodError as exc:
        _attempt(claim, QoyodAttempt.Step.JOURNAL, exc=exc)
        raise _failure(claim, exc) from None
    _attempt(claim, QoyodAttempt.Step.JOURNAL, outcome=QoyodAttempt.Outcome.OK, qoyod_id=created.id)
    return _Stop(S.SYNCED, "", Message("journal.created", id=created.id), entry=created)


def _run_bill(claim: _Claim, books: Books, link: str, options: ClientOptions) -> _Stop:
    """A draft expense bill: look up (after an unknown outcome), the vendor, then create."""
    row = claim.row
    writer = _writer(claim, options)
    if claim.claimed_from == S.UNKNOWN:
        try:
            found = writer.reader.find_simple_bills(row.number)
        except QoyodError as exc:
            _attempt(claim, QoyodAttempt.Step.LOOKUP, exc=exc)
            raise _Stop(
                S.UNKNOWN, FailureKind.OUTCOME_UNKNOWN,
                with_detail("journal.lookup_failed", exc, number=row.number),
            ) from None  # fmt: skip
        ours = [b for b in found if bill_is_ours(row=row, found=b)]
        if ours:
            chosen = min(ours, key=lambda b: b.id)
            _attempt(
                claim, QoyodAttempt.Step.LOOKUP, outcome=QoyodAttempt.Outcome.FOUND,
                qoyod_id=chosen.id,
            )  # fmt: skip
            return _Stop(S.SYNCED, "", Message("bill.linked", id=chosen.id), entry=chosen)
        _attempt(claim, QoyodAttempt.Step.LOOKUP, outcome=QoyodAttempt.Outcome.ABSENT)
    vendor_id = _vendor(claim, writer)
    bill = simple_bill_for(row=row, books=books, vendor_id=vendor_id, receipts_url=link)
    if timezone.now() + LEASE_MARGIN > claim.lease_until:
        raise _Stop(S.FAILED, FailureKind.TEMPORARY, Message("journal.lease_ran_out"))
    claim.posted = True
    try:
        created = writer.create_simple_bill(bill)
    except QoyodError as exc:
        _attempt(claim, QoyodAttempt.Step.BILL, exc=exc)
        raise _failure(claim, exc) from None
    _attempt(claim, QoyodAttempt.Step.BILL, outcome=QoyodAttempt.Outcome.OK, qoyod_id=created.id)
    return _Stop(S.SYNCED, "", Message("bill.created", id=created.id), entry=created)


def _vendor(claim: _Claim, writer: QoyodWriter) -> int:
    """The Qoyod vendor of the row's VAT number: the stored link, else an active vendor with
    that number, else a new one. Found or made, it is stored at once, so a later send (or a
    retry after a lost answer) never makes a second vendor."""
    row = claim.row
    vat = row.payee_vat_number.strip()
    linked = SupplierLink.objects.filter(vat_number=vat).values_list("qoyod_vendor_id", flat=True)
    if linked:
        return linked[0]
    step = QoyodAttempt.Step.LOOKUP
    try:
        active = [v for v in writer.reader.find_vendors_by_tax_number(vat) if v.is_active]
        if active:
            vendor_id = min(v.id for v in active)
        else:
            step = QoyodAttempt.Step.VENDOR
            vendor_id = writer.create_vendor(name=row.payee or vat, tax_number=vat).id
            _attempt(claim, step, outcome=QoyodAttempt.Outcome.OK, qoyod_id=vendor_id)
    except QoyodError as exc:
        _attempt(claim, step, exc=exc)
        # No bill was sent: a retry looks the VAT number up again before creating a vendor.
        raise _Stop(
            S.FAILED, FailureKind.TEMPORARY, with_detail("bill.vendor_failed", exc)
        ) from None
    SupplierLink.objects.get_or_create(
        vat_number=vat, defaults={"qoyod_vendor_id": vendor_id, "name": row.payee[:200]}
    )
    return SupplierLink.objects.get(vat_number=vat).qoyod_vendor_id


def _failure(claim: _Claim, exc: QoyodError) -> _Stop:
    number = claim.row.number
    if isinstance(exc, QoyodMaybeSaved):
        return _Stop(
            S.UNKNOWN,
            FailureKind.OUTCOME_UNKNOWN,
            with_detail("journal.maybe_saved", exc, number=number),
        )
    if isinstance(exc, QoyodUnauthorised):
        # The client has marked the connection for the banner (connection_key_refused).
        return _Stop(S.FAILED, FailureKind.KEY_REJECTED, Message("journal.key_refused"))
    if isinstance(exc, QoyodRejected):
        said = qoyod_error(exc).qoyod_message
        if unbalanced_rejected(exc):
            return _Stop(
                S.FAILED,
                FailureKind.REJECTED_ACCOUNTING,
                Message("journal.unbalanced_refused", qoyod_message=said),
            )
        if accounting_rejected(exc):
            return _Stop(
                S.FAILED,
                FailureKind.REJECTED_ACCOUNTING,
                Message("journal.account_refused", qoyod_message=said),
            )
        return _Stop(
            S.FAILED,
            FailureKind.REJECTED,
            Message("journal.rejected", status=exc.status_code, qoyod_message=said),
        )
    return _Stop(S.FAILED, FailureKind.TEMPORARY, with_detail("journal.temporary", exc))


def _attempt(
    claim: _Claim,
    step: str,
    *,
    outcome: str | None = None,
    exc: QoyodError | None = None,
    qoyod_id: int | None = None,
) -> None:
    attempt_record(
        step=step, target=claim.row.number, user=claim.user, money_move=claim.row,
        outcome=outcome, exc=exc, qoyod_id=qoyod_id,
    )  # fmt: skip


def _finish(claim: _Claim, stop: _Stop) -> SyncResult:
    row, note = claim.row, stop.reason
    fields: dict[str, Any] = {"lease_until": None, "claim_token": ""}
    if stop.entry is not None:
        fields.update(
            qoyod_entry_id=stop.entry.id, qoyod_entry_status=(stop.entry.status or "")[:30],
            failure_kind="", reason_code="", reason_params={}, qoyod_message="",
        )  # fmt: skip
    else:
        fields.update(
            failure_kind=stop.kind, reason_code=note.code, reason_params=note.params,
            qoyod_message=note.qoyod_message,
        )  # fmt: skip
    try:
        _move(
            row, to_state=stop.state, user=claim.user, note=note, expect_token=claim.token,
            **fields,
        )  # fmt: skip
    except StateConflict:
        row.refresh_from_db()
        return SyncResult(
            pk=row.pk, number=row.number, state=row.state,
            message=_("This sync of %(number)s ran out of time and another one took over.")
            % {"number": row.number},
            entry_id=row.qoyod_entry_id, entry_status=row.qoyod_entry_status,
            document=row.qoyod_document,
        )  # fmt: skip
    message = (
        note.render()
        if stop.entry is not None
        else with_qoyod_words(note.render(), note.qoyod_message)
    )
    return SyncResult(
        pk=row.pk, number=row.number, state=row.state, message=message,
        entry_id=row.qoyod_entry_id, entry_status=row.qoyod_entry_status,
        document=row.qoyod_document,
    )  # fmt: skip


# ---- for pages ------------------------------------------------------------------------------


def document_label(document: str, qoyod_id: int | None) -> str:
    """What a synced row shows before its Qoyod id; empty for a journal entry, the default."""
    if document == D.SIMPLE_BILL and qoyod_id is not None:
        return _("Draft expense bill in Qoyod")
    return ""


def _last_entry_status() -> QuerySet[Transaction, Any]:
    return (
        Transaction.objects.filter(state=S.SYNCED, qoyod_document=D.JOURNAL_ENTRY)
        .order_by("-last_attempt_at", "-pk")
        .values("qoyod_entry_status")
    )


def _approval(last: str | None) -> bool | None:
    return None if last is None else last in APPROVAL_STATUSES


def approval_in_use() -> bool | None:
    """Whether the Qoyod company approves manual entries, as its last answer showed; None
    before any entry was made."""
    return _approval(_last_entry_status().values_list("qoyod_entry_status", flat=True).first())


def transaction_receipts_link_revoke(*, row: Transaction, user: User | None) -> None:
    """Replace the receipts token: the old link (in Qoyod's entry) stops working at once."""
    with transaction.atomic():
        Transaction.objects.filter(pk=row.pk).update(
            receipts_token=uuid.uuid4(), updated_at=timezone.now()
        )
        TransactionEvent.objects.create(
            transaction=row, kind=TransactionEvent.Kind.LINK_REVOKED, user=user
        )
    row.refresh_from_db()
