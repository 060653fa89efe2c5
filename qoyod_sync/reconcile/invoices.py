"""Invoices, their customers and credit notes: ours against what Qoyod holds for the range."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.messages import register
from core.money import to_money
from garage.models import Customer
from invoicing.models import Invoice
from payments.models import covers_in_full
from qoyod_sync import types
from qoyod_sync.client.reader import phone_digits
from qoyod_sync.credit import NUMBER_PATTERN as CREDIT_NOTE_NUMBER
from qoyod_sync.models import QoyodCreditNote, QoyodCustomerLink, ReconciliationFinding
from qoyod_sync.reconcile.compare import orphan_finding, sent_finding

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
    "reconcile.credited_there",
    _(
        "%(number)s is credited in full in Qoyod (%(credited)s SAR) but not void here: void it "
        "here to match."
    ),
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
    "reconcile.credit_note_duplicate",
    _(
        "Credit note %(number)s is in Qoyod %(count)s times (ids %(ids)s): delete the extra "
        "drafts in Qoyod and keep %(keep)s."
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
    "reconcile.credit_note_orphan",
    _("Qoyod has credit note %(number)s, which this app never issued: check who made it in Qoyod."),
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


def _status_drift(invoice: Invoice, remote: types.Invoice) -> ReconciliationFinding | None:
    number = invoice.number
    if covers_in_full(credited=to_money(remote.credited), total=to_money(remote.total)):
        # Qoyod's status is Paid, and the read-back made it paid here too: only a void here
        # matches a document that credit notes cancelled (expected_invoices leaves void out).
        code, params = "reconcile.credited_there", {
            "number": number, "credited": str(to_money(remote.credited)),
        }  # fmt: skip
    elif (invoice.status == Invoice.Status.PAID) != (remote.status == types.PAID):
        paid_here = invoice.status == Invoice.Status.PAID
        code = "reconcile.paid_here_only" if paid_here else "reconcile.paid_there_only"
        params = {"number": number}
    else:
        return None
    return ReconciliationFinding(
        kind=Kind.STATUS_DRIFT, invoice=invoice, reference=number, qoyod_ids=[remote.id],
        code=code, params=params,
    )  # fmt: skip


def invoice_findings(
    ours: list[Invoice], theirs: list[types.Invoice], known: set[str]
) -> list[ReconciliationFinding]:
    """Each of ours missing, duplicated or differing in Qoyod, and Qoyod's invoices with our
    number pattern that are not `known` numbers of ours."""
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
        elif (drift := _status_drift(invoice, remotes[0])) is not None:
            found.append(drift)
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


def duplicate_customers(
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


def credit_note_findings(
    ours: list[QoyodCreditNote], theirs: list[types.CreditNote]
) -> list[ReconciliationFinding]:
    """Our sent notes gone from Qoyod, there more than once (our number as the reference of
    two) or changed there, and Qoyod's notes with our number pattern that no note of ours is."""
    by_id = {remote.id: remote for remote in theirs}
    by_reference: dict[str, list[types.CreditNote]] = defaultdict(list)
    for remote in theirs:
        by_reference[remote.reference].append(remote)
    found: list[ReconciliationFinding] = []
    for note in ours:
        copies = {remote.id: remote.total_amount for remote in by_reference.get(note.number, [])}
        if (mine := by_id.get(note.qoyod_id or 0)) is not None:
            copies[mine.id] = mine.total_amount
        finding = sent_finding(
            prefix="credit_note", number=note.number, qoyod_id=note.qoyod_id, total=note.total,
            copies=copies, invoice=note.invoice,
        )  # fmt: skip
        if finding is not None:
            found.append(finding)
    ours_ids = {note.qoyod_id for note in ours}
    numbered: dict[str, list[int]] = defaultdict(list)
    for remote in theirs:
        if remote.id not in ours_ids and CREDIT_NOTE_NUMBER.match(remote.reference):
            numbered[remote.reference].append(remote.id)
    # A note of ours issued on another day, or not yet linked, is still ours.
    known = set(
        QoyodCreditNote.objects.filter(number__in=list(numbered)).values_list("number", flat=True)
    )
    for reference, ids in sorted(numbered.items()):
        if reference not in known:
            found.append(
                orphan_finding(
                    prefix="credit_note",
                    number=reference,
                    qoyod_ids=sorted(ids),
                    params={"number": reference},
                )  # fmt: skip
            )
    return found
