"""Money moves sent from accounting: journal entries and draft expense bills (Qoyod simple
bills) against what Qoyod holds for the range. Both carry our transaction number, EXP-YEAR-
000123: an entry at the start of its description, a bill as its reference."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounting.models import Transaction
from core.messages import register
from qoyod_sync import types
from qoyod_sync.models import ReconciliationFinding
from qoyod_sync.reconcile.compare import orphan_finding, sent_finding

Document = Transaction.Document

register(
    "reconcile.journal_missing",
    _(
        "%(number)s was synced as journal entry %(id)s, which Qoyod no longer holds for its "
        "date: ask the accountant whether it was deleted there."
    ),
)
register(
    "reconcile.journal_drift",
    _(
        "%(number)s is %(ours)s SAR here and its journal entry %(theirs)s SAR in Qoyod: check "
        "who changed the entry in Qoyod."
    ),
)
register(
    "reconcile.journal_orphan",
    _(
        "Qoyod's journal entry %(id)s starts with %(number)s, which this app never synced: "
        "check who made it in Qoyod."
    ),
)
register(
    "reconcile.bill_missing",
    _(
        "%(number)s was sent as expense bill %(id)s, which Qoyod no longer holds for its date: "
        "ask the accountant whether it was deleted there."
    ),
)
register(
    "reconcile.bill_duplicate",
    _(
        "%(number)s is in Qoyod as %(count)s expense bills (ids %(ids)s): delete the extra "
        "drafts in Qoyod and keep %(keep)s."
    ),
)
register(
    "reconcile.bill_drift",
    _(
        "%(number)s is %(ours)s SAR here and its expense bill %(theirs)s SAR in Qoyod: check "
        "who changed the bill in Qoyod."
    ),
)
register(
    "reconcile.bill_orphan",
    _(
        "Qoyod's expense bill %(id)s has the reference %(number)s, which this app never sent as "
        "a bill: check who made it in Qoyod."
    ),
)


def _transaction_number() -> re.Pattern[str]:
    return re.compile(
        rf"^({re.escape(settings.TRANSACTION_NUMBER_PREFIX)}-\d{{4}}-\d{{6}})(?:\s|$)"
    )


def synced(*, document: str, date_from: date, date_to: date) -> list[Transaction]:
    """Our transactions of the range that Qoyod holds as this kind of document."""
    # Journal entries and bills keep their Qoyod id in the same column.
    return list(
        Transaction.objects.filter(
            qoyod_entry_id__isnull=False, date__gte=date_from, date__lte=date_to,
            qoyod_document=document,
        )
    )  # fmt: skip


def journal_findings(
    ours: list[Transaction], theirs: list[types.JournalEntry]
) -> list[ReconciliationFinding]:
    """Our synced transactions against Qoyod's entries of the range, and entries with our
    number pattern at the start of the description that we do not know."""
    by_id = {entry.id: entry for entry in theirs}
    found: list[ReconciliationFinding] = []
    for row in ours:
        entry = by_id.get(row.qoyod_entry_id or 0)
        finding = sent_finding(
            prefix="journal", number=row.number, qoyod_id=row.qoyod_entry_id, total=row.amount,
            copies={entry.id: entry.total_debit} if entry is not None else {},
        )  # fmt: skip
        if finding is not None:
            found.append(finding)
    pattern = _transaction_number()
    ours_ids = {row.qoyod_entry_id for row in ours}
    numbered = {
        entry.id: match.group(1)
        for entry in theirs
        if entry.id not in ours_ids and (match := pattern.match(entry.description))
    }
    known = set(
        Transaction.objects.filter(
            number__in=set(numbered.values()), qoyod_entry_id__in=list(numbered)
        ).values_list("qoyod_entry_id", flat=True)
    )
    for entry_id, number in sorted(numbered.items()):
        if entry_id not in known:
            found.append(
                orphan_finding(
                    prefix="journal",
                    number=number,
                    qoyod_ids=[entry_id],
                    params={"number": number, "id": entry_id},
                )  # fmt: skip
            )
    return found


def bill_findings(
    ours: list[Transaction], theirs: list[types.SimpleBill]
) -> list[ReconciliationFinding]:
    """Our bills gone from Qoyod, there more than once (our number as the reference of two), or
    with another total, and Qoyod's bills with our number pattern that we never sent."""
    by_id = {bill.id: bill for bill in theirs}
    by_reference: dict[str, list[types.SimpleBill]] = defaultdict(list)
    for bill in theirs:
        by_reference[bill.reference].append(bill)
    found: list[ReconciliationFinding] = []
    for row in ours:
        copies = {bill.id: bill.total for bill in by_reference.get(row.number, [])}
        if (mine := by_id.get(row.qoyod_entry_id or 0)) is not None:
            copies[mine.id] = mine.total
        finding = sent_finding(
            prefix="bill", number=row.number, qoyod_id=row.qoyod_entry_id, total=row.amount,
            copies=copies,
        )  # fmt: skip
        if finding is not None:
            found.append(finding)
    pattern = _transaction_number()
    ours_numbers = {row.number for row in ours}
    numbered = {
        bill.id: bill.reference
        for bill in theirs
        if bill.reference not in ours_numbers and pattern.match(bill.reference)
    }
    # A bill of ours dated outside the range (its date changed in Qoyod) is still ours.
    known = set(
        Transaction.objects.filter(
            number__in=set(numbered.values()), qoyod_document=Document.SIMPLE_BILL,
            qoyod_entry_id__isnull=False,
        ).values_list("number", flat=True)
    )  # fmt: skip
    for bill_id, number in sorted(numbered.items()):
        if number not in known:
            found.append(
                orphan_finding(
                    prefix="bill",
                    number=number,
                    qoyod_ids=[bill_id],
                    params={"number": number, "id": bill_id},
                )  # fmt: skip
            )
    return found
