"""Compare the documents here that should be in Qoyod with what Qoyod holds (issue 14 §3).

    reconciliation_run(date_from=, date_to=, reader=, user=)   read, compare, store the run
    reconciliation_run_now(date_from=, date_to=, user=)        the same with the stored connection

Reads only: Qoyod's invoices, credit notes and simple bills issued in the range (100 per
request), its customers and its journal entries of the range. No database transaction is open
while Qoyod is asked: the reads come first, the run is written after them. The comparisons are
invoices.py (invoices, customers, credit notes) and books.py (journal entries, expense bills).
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.messages import Message, register
from invoicing.models import Invoice
from qoyod_sync.client import QoyodReader
from qoyod_sync.credit import credit_notes_record_qoyod_status
from qoyod_sync.errors import QoyodError
from qoyod_sync.models import ReconciliationFinding, ReconciliationRun
from qoyod_sync.reconcile import books, invoices
from qoyod_sync.services import ConnectionUnusable, connection_get, connection_reader

Kind = ReconciliationFinding.Kind
# The longest range one run may read: a year, leap day included. Longer ranges are split by
# the person asking, so one click never walks a company's whole history.
MAX_RANGE_DAYS = 366

register(
    "reconcile.not_connected", gettext_lazy("Qoyod is not connected: set up the connection first.")
)
register(
    "reconcile.failed",
    gettext_lazy("Qoyod could not be read, so nothing was compared: %(detail)s"),
)


def range_refusal(*, date_from: date, date_to: date) -> str | None:
    """Why a run for this issue-date range is refused, or None."""
    if date_to < date_from:
        return _("The end date is before the start date.")
    days = (date_to - date_from).days + 1
    if days > MAX_RANGE_DAYS:
        return _(
            "%(days)s days is longer than one run reads (%(max)s days at most): choose a "
            "shorter range, or run it in parts."
        ) % {"days": days, "max": MAX_RANGE_DAYS}
    return None


def reconciliation_run(
    *, date_from: date, date_to: date, reader: QoyodReader, user: User | None = None
) -> ReconciliationRun:
    """Read Qoyod's documents for the range, compare them with ours, store what was found."""
    started = timezone.now()
    reads_before = reader.reads_made
    theirs = reader.list_invoices_issued(date_from=date_from, date_to=date_to)
    ours = invoices.expected_invoices(date_from=date_from, date_to=date_to)
    contacts = reader.list_customers() if ours else []
    our_notes = invoices.expected_credit_notes(date_from=date_from, date_to=date_to)
    # Read even when we sent none: a note with our number that we never issued is an orphan.
    their_notes = reader.list_credit_notes_issued(date_from=date_from, date_to=date_to)
    # One request whatever the count: the list has no paging, so it is read by date only.
    their_entries = reader.list_journal_entries(date_from=date_from, date_to=date_to)
    their_bills = reader.list_simple_bills_issued(date_from=date_from, date_to=date_to)
    references = {r.reference for r in theirs}
    known = set(Invoice.objects.filter(number__in=references).values_list("number", flat=True))
    our_entries = books.synced(
        document=books.Document.JOURNAL_ENTRY, date_from=date_from, date_to=date_to
    )
    our_bills = books.synced(
        document=books.Document.SIMPLE_BILL, date_from=date_from, date_to=date_to
    )
    findings = (
        invoices.invoice_findings(ours, theirs, known)
        + invoices.duplicate_customers(ours, contacts)
        + invoices.credit_note_findings(our_notes, their_notes)
        + books.journal_findings(our_entries, their_entries)
        + books.bill_findings(our_bills, their_bills)
    )
    statuses = {remote.id: remote.status for remote in their_notes}
    note_statuses = {n.pk: statuses[n.qoyod_id] for n in our_notes if n.qoyod_id in statuses}
    counts = Counter(finding.kind for finding in findings)
    finished = timezone.now()
    with transaction.atomic():
        run = ReconciliationRun.objects.create(
            date_from=date_from,
            date_to=date_to,
            started_at=started,
            finished_at=finished,
            invoices=len(ours),
            in_qoyod_once=len(ours) - counts[Kind.MISSING] - counts[Kind.DUPLICATE],
            missing=counts[Kind.MISSING] + counts[Kind.CREDIT_NOTE_MISSING],
            duplicates=counts[Kind.DUPLICATE]
            + counts[Kind.DUPLICATE_CUSTOMER]
            + counts[Kind.CREDIT_NOTE_DUPLICATE],
            drift=counts[Kind.TOTAL_DRIFT]
            + counts[Kind.VAT_DRIFT]
            + counts[Kind.STATUS_DRIFT]
            + counts[Kind.CREDIT_NOTE_DRIFT],
            orphans=counts[Kind.ORPHAN] + counts[Kind.CREDIT_NOTE_ORPHAN],
            journal_entries=len(our_entries),
            journal_missing=counts[Kind.JOURNAL_MISSING],
            journal_drift=counts[Kind.JOURNAL_DRIFT],
            journal_orphans=counts[Kind.JOURNAL_ORPHAN],
            bills=len(our_bills),
            bills_missing=counts[Kind.BILL_MISSING],
            bills_duplicates=counts[Kind.BILL_DUPLICATE],
            bills_drift=counts[Kind.BILL_DRIFT],
            bills_orphans=counts[Kind.BILL_ORPHAN],
            requests=reader.reads_made - reads_before,
            user=user,
        )
        for finding in findings:
            finding.run = run
        ReconciliationFinding.objects.bulk_create(findings)
        credit_notes_record_qoyod_status(statuses=note_statuses, read_at=finished)
    return run


class CannotReconcile(Exception):
    def __init__(self, message: Message) -> None:
        super().__init__(message.code)
        self.message = message


def last_run() -> ReconciliationRun | None:
    return ReconciliationRun.objects.filter(finished_at__isnull=False).first()


def default_range(today: date | None = None) -> dict[str, date]:
    """The last QOYOD_RECONCILE_DAYS days, today included: the nightly run's range."""
    last = today or timezone.localdate()
    return {"date_from": last - timedelta(days=settings.QOYOD_RECONCILE_DAYS - 1), "date_to": last}


def reconciliation_run_now(
    *, date_from: date, date_to: date, user: User | None = None
) -> ReconciliationRun:
    """Reconcile with the stored connection; raises CannotReconcile with why."""
    connection = connection_get()
    if connection is None:
        raise CannotReconcile(Message("reconcile.not_connected"))
    try:
        reader = connection_reader(connection)
        return reconciliation_run(date_from=date_from, date_to=date_to, reader=reader, user=user)
    except (QoyodError, ConnectionUnusable) as exc:
        raise CannotReconcile(Message("reconcile.failed", detail=str(exc))) from exc


CSV_COLUMNS = ("kind", "reference", "invoice", "qoyod_ids", "what_to_do")


def findings_csv(run: ReconciliationRun, out: Any) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for finding in run.findings.select_related("invoice"):
        writer.writerow(
            [
                finding.get_kind_display(),
                finding.reference,
                finding.invoice.number if finding.invoice else "",
                " ".join(str(i) for i in finding.qoyod_ids),
                finding.advice,
            ]
        )
