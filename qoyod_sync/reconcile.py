"""Compare the invoices here that should be in Qoyod with what Qoyod holds (issue 14 §3).

    reconciliation_run(date_from=, date_to=, user=)   read, compare, store a run and its findings

Reads only: Qoyod's invoices issued in the range and its customers, 100 per request, and no
database transaction is open while Qoyod is asked (the reads come first, the run is written
after them).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.models import Transaction
from core.messages import Message, register
from core.money import to_money
from garage.models import Customer
from invoicing.models import Invoice
from qoyod_sync import types
from qoyod_sync.client import QoyodReader
from qoyod_sync.client.reader import phone_digits
from qoyod_sync.credit import credit_notes_record_qoyod_status
from qoyod_sync.errors import QoyodError
from qoyod_sync.models import (
    QoyodCreditNote,
    QoyodCustomerLink,
    ReconciliationFinding,
    ReconciliationRun,
)
from qoyod_sync.services import ConnectionUnusable, connection_get, connection_reader

Kind = ReconciliationFinding.Kind

register(
    "reconcile.missing",
    _("%(number)s is not in Qoyod: send it again from the invoice page."),
)
register(
    "reconcile.duplicate",
    _("%(number)s is in Qoyod %(count)s times: delete the extra drafts in Qoyod."),
)
register(
    "reconcile.total_drift",
    _("%(number)s totals %(ours)s SAR here and %(theirs)s SAR in Qoyod: void and reissue it."),
)
register(
    "reconcile.vat_drift",
    _("%(number)s has %(ours)s SAR VAT here and %(theirs)s SAR in Qoyod: void and reissue it."),
)
register(
    "reconcile.paid_here_only",
    _("%(number)s is paid here but not in Qoyod: record the payment in Qoyod."),
)
register(
    "reconcile.paid_there_only",
    _("%(number)s is paid in Qoyod but not here: refresh it from Qoyod on the invoices page."),
)
register(
    "reconcile.duplicate_customer",
    _(
        "%(customer)s is in Qoyod %(count)s times (ids %(ids)s): merge them in Qoyod and keep "
        "%(keep)s, the one this app is linked to."
    ),
)
register(
    "reconcile.credit_note_missing",
    _(
        "Credit note %(number)s (Qoyod id %(id)s) is no longer in Qoyod: ask the accountant "
        "whether it was deleted there."
    ),
)
register(
    "reconcile.credit_note_drift",
    _(
        "Credit note %(number)s totals %(ours)s SAR here and %(theirs)s SAR in Qoyod: correct "
        "it in Qoyod while it is a draft."
    ),
)
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
register("reconcile.not_connected", _("Qoyod is not connected: set up the connection first."))
register(
    "reconcile.failed",
    _("Qoyod could not be read, so nothing was compared: %(detail)s"),
)
register(
    "reconcile.orphan",
    _("Qoyod has %(number)s, which this app never issued: check who made it in Qoyod."),
)


def _number_pattern() -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(settings.INVOICE_NUMBER_PREFIX)}-\d{{4}}-\d{{6}}$")


def expected_invoices(*, date_from: date, date_to: date) -> list[Invoice]:
    """Our invoices issued in the range that should each be in Qoyod exactly once."""
    return list(
        Invoice.objects.filter(
            qoyod_managed=True, issue_date__gte=date_from, issue_date__lte=date_to
        ).exclude(status=Invoice.Status.VOID)
    )


def _paid_here(invoice: Invoice) -> bool:
    return invoice.status == Invoice.Status.PAID


def _findings(
    ours: list[Invoice], theirs: list[types.Invoice], known: set[str]
) -> list[ReconciliationFinding]:
    by_reference: dict[str, list[types.Invoice]] = defaultdict(list)
    for remote in theirs:
        by_reference[remote.reference].append(remote)
    found: list[ReconciliationFinding] = []
    for invoice in ours:
        remotes = by_reference.get(invoice.number, [])
        number = invoice.number
        if not remotes:
            found.append(
                ReconciliationFinding(
                    kind=Kind.MISSING,
                    invoice=invoice,
                    reference=number,
                    code="reconcile.missing",
                    params={"number": number},
                )  # fmt: skip
            )
        elif len(remotes) > 1:
            found.append(
                ReconciliationFinding(
                    kind=Kind.DUPLICATE,
                    invoice=invoice,
                    reference=number,
                    qoyod_ids=sorted(r.id for r in remotes),
                    code="reconcile.duplicate",
                    params={"number": number, "count": len(remotes)},
                )  # fmt: skip
            )
        elif _paid_here(invoice) != (remotes[0].status == types.PAID):
            found.append(
                ReconciliationFinding(
                    kind=Kind.STATUS_DRIFT,
                    invoice=invoice,
                    reference=number,
                    qoyod_ids=[remotes[0].id],
                    code="reconcile.paid_here_only"
                    if _paid_here(invoice)
                    else "reconcile.paid_there_only",
                    params={"number": number},
                )  # fmt: skip
            )
        elif to_money(remotes[0].total) != invoice.total:
            found.append(
                ReconciliationFinding(
                    kind=Kind.TOTAL_DRIFT,
                    invoice=invoice,
                    reference=number,
                    qoyod_ids=[remotes[0].id],
                    code="reconcile.total_drift",
                    params={
                        "number": number,
                        "ours": str(invoice.total),
                        "theirs": str(to_money(remotes[0].total)),
                    },
                )  # fmt: skip
            )
        elif remotes[0].vat_total != invoice.vat_total:
            found.append(
                ReconciliationFinding(
                    kind=Kind.VAT_DRIFT,
                    invoice=invoice,
                    reference=number,
                    qoyod_ids=[remotes[0].id],
                    code="reconcile.vat_drift",
                    params={
                        "number": number,
                        "ours": str(invoice.vat_total),
                        "theirs": str(remotes[0].vat_total),
                    },
                )  # fmt: skip
            )
    pattern = _number_pattern()
    for reference, remotes in sorted(by_reference.items()):
        if pattern.match(reference) and reference not in known:
            found.append(
                ReconciliationFinding(
                    kind=Kind.ORPHAN,
                    reference=reference,
                    qoyod_ids=sorted(r.id for r in remotes),
                    code="reconcile.orphan",
                    params={"number": reference},
                )  # fmt: skip
            )
    return found


def _same_customer(ours: Customer, theirs: types.Customer) -> bool:
    """Qoyod's contact is this customer by VAT number, mobile or exact name, the tests the
    customer send links by (Qoyod itself refuses none of the three twice, qoyod-api.md §3.3)."""
    vat = ours.vat_number.strip()
    if vat and theirs.tax_number.strip() == vat:
        return True
    phone = phone_digits(ours.phone)
    if phone and theirs.phone_number and phone_digits(theirs.phone_number) == phone:
        return True
    name = (ours.name_en or ours.name_ar).strip().casefold()
    return bool(name) and theirs.name.strip().casefold() == name


def _duplicate_customers(
    ours: list[Invoice], contacts: list[types.Customer]
) -> list[ReconciliationFinding]:
    """Our linked customers of the range's invoices that Qoyod holds more than once."""
    links = QoyodCustomerLink.objects.filter(
        customer__in={invoice.customer_id for invoice in ours},
        state=QoyodCustomerLink.State.LINKED,
    ).select_related("customer")
    found: list[ReconciliationFinding] = []
    for link in sorted(links, key=lambda link: link.customer_id):
        assert link.qoyod_id is not None  # a linked row has its id (model constraint)
        ids = sorted({c.id for c in contacts if _same_customer(link.customer, c)} | {link.qoyod_id})
        if len(ids) < 2:
            continue
        name = link.customer.name_en or link.customer.name_ar
        found.append(
            ReconciliationFinding(
                kind=Kind.DUPLICATE_CUSTOMER,
                reference=name[:64],
                qoyod_ids=ids,
                code="reconcile.duplicate_customer",
                params={
                    "customer": name,
                    "count": len(ids),
                    "ids": ", ".join(str(i) for i in ids),
                    "keep": link.qoyod_id,
                },
            )  # fmt: skip
        )
    return found


def expected_credit_notes(*, date_from: date, date_to: date) -> list[QoyodCreditNote]:
    """Our credit notes issued in the range that Qoyod has received."""
    return list(
        QoyodCreditNote.objects.filter(
            qoyod_id__isnull=False, issue_date__gte=date_from, issue_date__lte=date_to
        ).select_related("invoice")
    )


def _credit_note_findings(
    ours: list[QoyodCreditNote], theirs: list[types.CreditNote]
) -> list[ReconciliationFinding]:
    by_id = {remote.id: remote for remote in theirs}
    found: list[ReconciliationFinding] = []
    for note in ours:
        remote = by_id.get(note.qoyod_id or 0)
        if remote is None:
            found.append(
                ReconciliationFinding(
                    kind=Kind.CREDIT_NOTE_MISSING,
                    invoice=note.invoice,
                    reference=note.number,
                    qoyod_ids=[note.qoyod_id],
                    code="reconcile.credit_note_missing",
                    params={"number": note.number, "id": note.qoyod_id},
                )  # fmt: skip
            )
        elif to_money(remote.total_amount) != note.total:
            found.append(
                ReconciliationFinding(
                    kind=Kind.CREDIT_NOTE_DRIFT,
                    invoice=note.invoice,
                    reference=note.number,
                    qoyod_ids=[remote.id],
                    code="reconcile.credit_note_drift",
                    params={
                        "number": note.number,
                        "ours": str(note.total),
                        "theirs": str(to_money(remote.total_amount)),
                    },
                )  # fmt: skip
            )
    return found


def _transaction_number() -> re.Pattern[str]:
    return re.compile(
        rf"^({re.escape(settings.TRANSACTION_NUMBER_PREFIX)}-\d{{4}}-\d{{6}})(?:\s|$)"
    )


def _journal_findings(
    ours: list[Transaction], theirs: list[types.JournalEntry]
) -> list[ReconciliationFinding]:
    """Our synced transactions against Qoyod's entries of the range, and entries with our
    number pattern at the start of the description that we do not know."""
    by_id = {entry.id: entry for entry in theirs}
    found: list[ReconciliationFinding] = []
    for row in ours:
        entry = by_id.get(row.qoyod_entry_id or 0)
        if entry is None:
            found.append(
                ReconciliationFinding(
                    kind=Kind.JOURNAL_MISSING,
                    reference=row.number,
                    qoyod_ids=[row.qoyod_entry_id],
                    code="reconcile.journal_missing",
                    params={"number": row.number, "id": row.qoyod_entry_id},
                )  # fmt: skip
            )
        elif to_money(entry.total_debit) != to_money(row.amount):
            found.append(
                ReconciliationFinding(
                    kind=Kind.JOURNAL_DRIFT,
                    reference=row.number,
                    qoyod_ids=[entry.id],
                    code="reconcile.journal_drift",
                    params={
                        "number": row.number,
                        "ours": str(to_money(row.amount)),
                        "theirs": str(to_money(entry.total_debit)),
                    },
                )  # fmt: skip
            )
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
                ReconciliationFinding(
                    kind=Kind.JOURNAL_ORPHAN,
                    reference=number,
                    qoyod_ids=[entry_id],
                    code="reconcile.journal_orphan",
                    params={"number": number, "id": entry_id},
                )  # fmt: skip
            )
    return found


def reconciliation_run(
    *, date_from: date, date_to: date, reader: QoyodReader, user: User | None = None
) -> ReconciliationRun:
    """Read Qoyod's invoices for the range, compare them with ours, store what was found."""
    started = timezone.now()
    theirs = reader.list_invoices_issued(date_from=date_from, date_to=date_to)
    ours = expected_invoices(date_from=date_from, date_to=date_to)
    contacts = reader.list_customers() if ours else []
    our_notes = expected_credit_notes(date_from=date_from, date_to=date_to)
    their_notes = (
        reader.list_credit_notes_issued(date_from=date_from, date_to=date_to) if our_notes else []
    )
    # One request whatever the count: the list has no paging, so it is read by date only.
    their_entries = reader.list_journal_entries(date_from=date_from, date_to=date_to)
    references = {r.reference for r in theirs}
    known = set(Invoice.objects.filter(number__in=references).values_list("number", flat=True))
    findings = (
        _findings(ours, theirs, known)
        + _duplicate_customers(ours, contacts)
        + _credit_note_findings(our_notes, their_notes)
    )
    # Draft expense bills keep their Qoyod id in the same column; they are not journal entries.
    our_entries = list(
        Transaction.objects.filter(
            qoyod_entry_id__isnull=False, date__gte=date_from, date__lte=date_to,
            qoyod_document=Transaction.Document.JOURNAL_ENTRY,
        )
    )  # fmt: skip
    journal = _journal_findings(our_entries, their_entries)
    findings += journal
    statuses = {remote.id: remote.status for remote in their_notes}
    note_statuses = {n.pk: statuses[n.qoyod_id] for n in our_notes if n.qoyod_id in statuses}
    counts: defaultdict[str, int] = defaultdict(int)
    for finding in findings:
        counts[finding.kind] += 1
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
            duplicates=counts[Kind.DUPLICATE] + counts[Kind.DUPLICATE_CUSTOMER],
            drift=counts[Kind.TOTAL_DRIFT]
            + counts[Kind.VAT_DRIFT]
            + counts[Kind.STATUS_DRIFT]
            + counts[Kind.CREDIT_NOTE_DRIFT],
            orphans=counts[Kind.ORPHAN],
            journal_entries=len(our_entries),
            journal_missing=counts[Kind.JOURNAL_MISSING],
            journal_drift=counts[Kind.JOURNAL_DRIFT],
            journal_orphans=counts[Kind.JOURNAL_ORPHAN],
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
