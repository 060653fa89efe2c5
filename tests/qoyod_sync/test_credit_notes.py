"""Credit notes against Qoyod-approved invoices, over the loopback sandbox: issued here, sent
once as a Qoyod draft (even after a lost answer and a retry), partial credits, and refusals that
change nothing and send nothing."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core import roles
from garage.models import JobCard
from invoicing.models import Invoice
from invoicing.services import invoice_create, invoice_prefill, invoice_void_and_reissue
from qoyod_sync.credit import (
    CreditLine,
    credit_note_issue,
    credit_note_send,
    credit_refusal,
    invoice_credit_and_reissue,
)
from qoyod_sync.models import CreditNoteState, QoyodAttempt, QoyodCreditNote, ReconciliationFinding
from qoyod_sync.readback.fetch import invoices_refresh
from qoyod_sync.reconcile import reconciliation_run
from qoyod_sync.services import invoice_qoyod_draft_delete
from tests import factories
from tests.qoyod_sync.test_push import (  # noqa: F401  (fixtures)
    calls,
    drafts,
    http_guard,
    options,
    qoyod,
    send,
    sync_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

NOTES = "/2.0/credit_notes"
Kind = ReconciliationFinding.Kind


def sent_invoice(qoyod, options, *, approve=True, pay=None):  # noqa: F811
    """An invoice sent to the sandbox (two services: 100 × 1 and 40 × 3, 15% VAT)."""
    invoice = two_service_invoice()
    assert invoice.total == Decimal("253.00")
    send(invoice, None, options)
    [remote] = drafts(qoyod, invoice)
    if approve:
        qoyod.act("invoices", remote.id, "approve")
    if pay is not None:
        qoyod.act("invoices", remote.id, "payments", {"amount": pay})
    invoices_refresh(invoice_ids=[invoice.pk], user=None)
    invoice.refresh_from_db()
    qoyod.requests.clear()
    return invoice, remote


def two_service_invoice() -> Invoice:
    branch = factories.BranchFactory(code="RUH")
    customer = factories.CustomerFactory()
    vehicle = factories.VehicleFactory(customer=customer)
    job = factories.JobCardFactory(
        branch=branch, customer=customer, vehicle=vehicle, status=JobCard.Status.COMPLETED
    )
    for price, quantity in (("100.00", "1"), ("40.00", "3")):
        item = factories.ServiceItemFactory(default_price=Decimal(price))
        factories.ServiceLineFactory(job=job, service_item=item, quantity=Decimal(quantity))
    today = timezone.localdate()
    return invoice_create(
        job=job, customer=customer, vehicle=vehicle, lines=invoice_prefill(job=job),
        issue_date=today, due_date=today + datetime.timedelta(days=30), requires_qoyod=True,
        user=None,
    )  # fmt: skip


def note_json(qoyod):  # noqa: F811
    return [
        {
            "parent_id": n.parent_id,
            "reference": n.reference,
            "reason": n.issuance_reason,
            "approved": n.approved,
            "lines": [(line.quantity, line.unit_price) for line in n.lines],
            "total": n.total,
        }
        for n in qoyod.company().credit_notes.values()
    ]


def test_void_and_reissue_of_a_paid_qoyod_invoice_credits_it_once_in_qoyod(qoyod, options):  # noqa: F811
    invoice, remote = sent_invoice(qoyod, options, pay="253.00")
    assert invoice.status == Invoice.Status.PAID

    note, replacement = invoice_credit_and_reissue(invoice=invoice, reason="Wrong car", user=None)

    assert calls(qoyod) == []
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    assert replacement.replaces_id == invoice.pk
    assert (note.number, note.total, note.state) == (
        f"CRN-{note.issue_date.year}-000001", Decimal("253.00"), CreditNoteState.NOT_SENT,
    )  # fmt: skip
    assert [(x.invoice_line.position, x.quantity, x.line_total) for x in note.lines.all()] == [
        (1, Decimal("1.000"), Decimal("115.00")),
        (2, Decimal("3.000"), Decimal("138.00")),
    ]

    result = credit_note_send(note=note, user=None, options=options)

    assert result.ok
    assert note_json(qoyod) == [
        {
            "parent_id": remote.id, "reference": note.number, "reason": "Wrong car",
            "approved": False, "lines": [(Decimal("1"), Decimal("100")), (Decimal("3"),
                                          Decimal("40"))],
            "total": Decimal("253.00"),
        }
    ]  # fmt: skip
    [created] = qoyod.company().credit_notes.values()
    assert (result.note.qoyod_id, result.note.attempts) == (created.id, 1)
    assert calls(qoyod) == [f"POST {NOTES}"]
    assert [(c.from_state, c.to_state, c.reason_code) for c in note.history.all()] == [
        ("", "not_sent", "credit.issued"),
        ("not_sent", "sending", "credit.send"),
        ("sending", "draft_created", "credit.draft_created"),
    ]
    with pytest.raises(ValidationError):
        credit_note_send(note=note, user=None, options=options)
    assert len(qoyod.company().credit_notes) == 1


def test_a_dropped_answer_then_retry_links_the_note_and_never_makes_a_second(qoyod, options):  # noqa: F811
    invoice, remote = sent_invoice(qoyod, options, pay="100.00")
    note, _replacement = invoice_credit_and_reissue(invoice=invoice, reason="Wrong car", user=None)
    qoyod.faults.drop_next(commit=True, method="POST", path="/credit_notes")

    lost = credit_note_send(note=note, user=None, options=options)

    assert lost.note.state == CreditNoteState.UNKNOWN
    assert lost.note.reason_code == "credit.maybe_saved"
    assert len(qoyod.company().credit_notes) == 1
    qoyod.requests.clear()

    again = credit_note_send(note=note, user=None, options=options)

    [created] = qoyod.company().credit_notes.values()
    assert (again.note.state, again.note.qoyod_id, again.note.attempts) == (
        CreditNoteState.DRAFT_CREATED, created.id, 2,
    )  # fmt: skip
    assert created.parent_id == remote.id
    assert calls(qoyod) == [f"GET {NOTES}"]
    assert [(a.step, a.outcome) for a in QoyodAttempt.objects.filter(target=note.number)] == [
        (QoyodAttempt.Step.CREDIT, QoyodAttempt.Outcome.MAYBE_SAVED),
        (QoyodAttempt.Step.LOOKUP, QoyodAttempt.Outcome.FOUND),
    ]
    assert again.note.history.last().reason_code == "credit.linked"


def test_a_partial_credit_of_part_of_one_line(qoyod, options):  # noqa: F811
    invoice, remote = sent_invoice(qoyod, options)
    wash = invoice.lines.get(position=2)

    note = credit_note_issue(
        invoice=invoice, reason="One wash not done", user=None,
        lines=[CreditLine(line_id=wash.pk, quantity=Decimal("1"))],
    )  # fmt: skip
    result = credit_note_send(note=note, user=None, options=options)

    assert result.ok
    assert note.total == Decimal("46.00")
    assert note_json(qoyod) == [
        {
            "parent_id": remote.id, "reference": note.number, "reason": "One wash not done",
            "approved": False, "lines": [(Decimal("1"), Decimal("40"))],
            "total": Decimal("46.00"),
        }
    ]  # fmt: skip
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED
    # What is left: 2 washes and the oil change.
    with pytest.raises(ValidationError) as refused:
        credit_note_issue(
            invoice=invoice, reason="more", user=None,
            lines=[CreditLine(line_id=wash.pk, quantity=Decimal("2.5"))],
        )  # fmt: skip
    assert refused.value.messages == ["Line 2: credit between 0 and 2 (not 2.5)."]


def test_over_credit_and_a_draft_invoice_are_refused_with_nothing_written_or_sent(qoyod, options):  # noqa: F811
    invoice, _remote = sent_invoice(qoyod, options)
    oil = invoice.lines.get(position=1)

    with pytest.raises(ValidationError) as over:
        credit_note_issue(
            invoice=invoice, reason="x", user=None,
            lines=[CreditLine(line_id=oil.pk, quantity=Decimal("2"))],
        )  # fmt: skip
    assert over.value.messages == ["Line 1: credit between 0 and 1 (not 2)."]

    draft_invoice, _draft = sent_invoice(qoyod, options, approve=False)
    refusal = (
        f"{draft_invoice.number} is still a draft in Qoyod: void and reissue deletes the draft "
        "instead; a credit note is only for an approved invoice."
    )
    assert credit_refusal(draft_invoice) == refusal
    with pytest.raises(ValidationError) as draft:
        credit_note_issue(invoice=draft_invoice, reason="x", user=None)
    assert draft.value.messages == [refusal]

    assert QoyodCreditNote.objects.count() == 0
    assert calls(qoyod) == []
    assert qoyod.company().credit_notes == {}


def test_a_qoyod_draft_is_voided_by_deleting_it_and_the_reissue_is_sendable(qoyod, options):  # noqa: F811
    invoice, remote = sent_invoice(qoyod, options, approve=False)

    replacement = invoice_void_and_reissue(invoice=invoice, reason="Wrong car", user=None)
    invoice.refresh_from_db()
    invoice_qoyod_draft_delete(invoice=invoice, user=None, options=options)
    result = send(replacement, None, options)

    assert remote.id not in qoyod.company().invoices
    assert sync_of(invoice).draft_deleted_at is not None
    assert result.ok
    [new] = drafts(qoyod, replacement)
    assert new.reference == replacement.number != invoice.number
    assert QoyodCreditNote.objects.count() == 0


def test_the_invoice_page_leads_an_accountant_through_credit_and_send(qoyod, options, client):  # noqa: F811
    invoice, remote = sent_invoice(qoyod, options, pay="253.00")
    client.force_login(factories.UserFactory(username="acc", role="Accountant"))
    page = reverse("invoicing:invoice_detail", args=[invoice.pk])

    shown = client.get(page).content.decode()
    assert 'data-testid="credit-and-reissue"' in shown
    assert 'data-testid="credit-partial"' in shown

    first, second = invoice.lines.order_by("position")
    over = client.post(
        reverse("qoyod_sync:invoice_credit", args=[invoice.pk]),
        {"reason": "Wrong brake pads", f"qty_{first.pk}": "2", f"qty_{second.pk}": "1.5",
         "next": page},
    )  # fmt: skip
    # Refused, the form is drawn again open, with everything typed and why.
    assert over.status_code == 400
    refused = over.content.decode()
    form = refused[refused.index('data-testid="credit-partial"') :]
    form = form[: form.index("</form>")]
    assert "Line 1: credit between 0 and 1 (not 2)." in form
    assert f'name="qty_{first.pk}" value="2"' in form
    assert f'name="qty_{second.pk}" value="1.5"' in form
    assert 'name="reason" maxlength="255" value="Wrong brake pads"' in form
    assert f'name="next" value="{page}"' in form
    assert "<details open>" in refused
    assert QoyodCreditNote.objects.count() == 0

    client.post(
        reverse("qoyod_sync:invoice_credit_and_reissue", args=[invoice.pk]), {"reason": "Wrong car"}
    )
    note = QoyodCreditNote.objects.get()
    client.post(
        reverse("qoyod_sync:invoice_credit_note_send", args=[invoice.pk]),
        {"note": note.pk, "next": page},
    )

    note.refresh_from_db()
    [created] = qoyod.company().credit_notes.values()
    assert (note.state, note.qoyod_id, created.parent_id) == (
        CreditNoteState.DRAFT_CREATED, created.id, remote.id,
    )  # fmt: skip
    arabic = client.get(page, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'dir="rtl"' in arabic
    assert "الإشعارات الدائنة" in arabic
    assert f"معرّف الإشعار الدائن في قيود {created.id}" in arabic
    # The last request speaks English again, so later tests read English.
    shown = client.get(page).content.decode()
    assert note.number in shown
    assert f"Qoyod credit note id {created.id}" in shown
    assert 'data-testid="credit-note-send"' not in shown
    assert (
        "This invoice is void here and credited by the credit note below: once it is sent, the "
        "accountant approves it in Qoyod."
    ) in shown
    assert 'data-testid="credit-and-reissue"' not in shown
    # The list says so too, from the credit note it reads with each row.
    listed = client.get(reverse("invoicing:invoice_list")).content.decode()
    assert (
        'title="This invoice is void here and credited by the credit note below: once it is '
        'sent, the accountant approves it in Qoyod."'
    ) in listed


def test_a_plain_void_of_an_invoice_qoyod_approved_is_refused_and_changes_nothing(qoyod, options):  # noqa: F811
    invoice, _remote = sent_invoice(qoyod, options)

    with pytest.raises(ValidationError) as refused:
        invoice_void_and_reissue(invoice=invoice, reason="Wrong car", user=None)

    assert refused.value.messages == [
        f"Qoyod has approved {invoice.number}, so only a credit note corrects it: use Void and "
        "reissue with a credit note under Credit notes."
    ]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason) == (Invoice.Status.ISSUED, "")
    assert not Invoice.objects.filter(replaces=invoice).exists()
    assert calls(qoyod) == []


def test_a_note_being_sent_is_refused_without_http_and_a_dead_claim_is_looked_up(qoyod, options):  # noqa: F811
    invoice, _remote = sent_invoice(qoyod, options, pay="253.00")
    note, _replacement = invoice_credit_and_reissue(invoice=invoice, reason="Wrong car", user=None)
    later = timezone.now() + datetime.timedelta(minutes=5)
    QoyodCreditNote.objects.filter(pk=note.pk).update(state="sending", lease_until=later)

    with pytest.raises(ValidationError) as refused:
        credit_note_send(note=note, user=None, options=options)

    assert refused.value.messages == [f"Credit note {note.number} is being sent right now."]
    assert calls(qoyod) == []
    assert note.history.count() == 1

    earlier = timezone.now() - datetime.timedelta(seconds=1)
    QoyodCreditNote.objects.filter(pk=note.pk).update(lease_until=earlier)
    result = credit_note_send(note=note, user=None, options=options)

    # The dead request may have posted it: look first (absent), then create, once.
    assert result.ok
    assert calls(qoyod) == [f"GET {NOTES}", f"POST {NOTES}"]
    assert len(qoyod.company().credit_notes) == 1
    assert [(c.from_state, c.to_state) for c in note.history.all()][1:] == [
        ("sending", "unknown"), ("unknown", "sending"), ("sending", "draft_created"),
    ]  # fmt: skip


def test_the_pages_lead_a_qoyod_draft_void_and_reissue_to_delete_then_send(qoyod, options, client):  # noqa: F811
    invoice, remote = sent_invoice(qoyod, options, approve=False)
    client.force_login(factories.UserFactory(username="acc", role="Accountant"))

    response = client.post(
        reverse("invoicing:invoice_void_and_reissue", args=[invoice.pk]),
        {"reason": "Wrong car"},
        follow=True,
    )

    replacement = Invoice.objects.get(replaces=invoice)
    assert [str(m) for m in response.context["messages"]] == [
        f"{invoice.number} is void and replaced by {replacement.number}. Delete the old draft "
        f"of {invoice.number} in Qoyod from its page, then send {replacement.number} to Qoyod "
        "as a new draft."
    ]
    old_page = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content
    assert b'data-testid="qoyod-delete-draft"' in old_page
    assert b'data-testid="credit-notes"' not in old_page
    client.post(reverse("qoyod_sync:invoice_draft_delete", args=[invoice.pk]))
    assert remote.id not in qoyod.company().invoices
    client.post(reverse("qoyod_sync:invoice_send", args=[replacement.pk]))
    [new] = drafts(qoyod, replacement)
    assert new.reference == replacement.number


def test_an_unknown_note_stays_unknown_until_a_lookup_answers(qoyod, options):  # noqa: F811
    invoice, _remote = sent_invoice(qoyod, options, pay="253.00")
    note, _replacement = invoice_credit_and_reissue(invoice=invoice, reason="Wrong car", user=None)
    QoyodCreditNote.objects.filter(pk=note.pk).update(state="unknown")
    qoyod.faults.fail_next(10, status=500, method="GET", path="/credit_notes")

    result = credit_note_send(note=note, user=None, options=options)

    assert (result.note.state, result.note.reason_code) == (
        CreditNoteState.UNKNOWN, "credit.lookup_failed",
    )  # fmt: skip
    assert f"POST {NOTES}" not in calls(qoyod)
    assert qoyod.company().credit_notes == {}
    qoyod.faults.clear()
    qoyod.requests.clear()

    again = credit_note_send(note=note, user=None, options=options)

    assert again.ok
    assert calls(qoyod) == [f"GET {NOTES}", f"POST {NOTES}"]
    assert len(qoyod.company().credit_notes) == 1


def test_issuing_and_sending_a_credit_note_is_audited_once_each(qoyod, options):  # noqa: F811
    invoice, _remote = sent_invoice(qoyod, options, pay="253.00")
    user = factories.UserFactory(username="noura", role=roles.ACCOUNTANT)
    first = invoice.lines.get(position=1)

    one = [CreditLine(line_id=first.pk, quantity=Decimal("1"))]
    note = credit_note_issue(invoice=invoice, reason="Wrong part", user=user, lines=one)
    credit_note_send(note=note, user=user, options=options)
    # A second send is refused before any write: nothing more to audit.
    with pytest.raises(ValidationError):
        credit_note_send(note=note, user=user, options=options)

    note.refresh_from_db()
    rows = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(QoyodCreditNote)
    ).order_by("pk")
    assert [(r.action, r.actor_label, r.object_id, r.object_label, r.after) for r in rows] == [
        (AuditEvent.Action.CREDIT_NOTE_ISSUE, "noura", str(note.pk), note.number,
         {"invoice": invoice.number, "total": "115.00", "reason": "Wrong part",
          "lines": [[1, "1"]]}),
        (AuditEvent.Action.QOYOD_CREDIT_NOTE_CREATE, "noura", str(note.pk), note.number,
         {"invoice": invoice.number, "outcome": "ok", "qoyod_id": note.qoyod_id,
          "http_status": None, "detail_code": ""}),
    ]  # fmt: skip


def _reconcile(qoyod):  # noqa: F811
    today = timezone.localdate()
    qoyod.requests.clear()
    run = reconciliation_run(date_from=today, date_to=today, reader=qoyod.reader())
    return run, qoyod.requests.count(method="GET", path=NOTES)


def _sent_note(qoyod, options, *, pay="253.00"):  # noqa: F811
    invoice, _ = sent_invoice(qoyod, options, pay=pay)
    note, _ = invoice_credit_and_reissue(invoice=invoice, reason="Wrong car", user=None)
    credit_note_send(note=note, user=None, options=options)
    note.refresh_from_db()
    return note


def test_the_reconciliation_reads_back_each_credit_notes_qoyod_status(qoyod, options, client):  # noqa: F811
    note = _sent_note(qoyod, options, pay="100.00")

    run, requests = _reconcile(qoyod)

    assert (run.missing, run.drift, run.findings.count(), requests) == (0, 0, 0, 1)
    note.refresh_from_db()
    assert (note.qoyod_status, note.qoyod_status_read_at) == ("Draft", run.finished_at)

    qoyod.act("credit_notes", note.qoyod_id, "approve")
    _reconcile(qoyod)
    note.refresh_from_db()
    assert note.qoyod_status == "Unused"
    qoyod.act("credit_notes", note.qoyod_id, "use", {"amount": "100.00"})
    _reconcile(qoyod)
    note.refresh_from_db()
    assert (note.qoyod_status, note.qoyod_status_label) == ("Partially Used", "Partially used")

    client.force_login(factories.UserFactory(role=roles.ACCOUNTANT))
    html = client.get(reverse("invoicing:invoice_detail", args=[note.invoice_id])).content.decode()
    assert 'data-testid="credit-note-qoyod-status"' in html
    assert "In Qoyod: Partially used" in html


def test_a_credit_note_gone_from_qoyod_or_changed_there_is_found(qoyod, options):  # noqa: F811
    gone = _sent_note(qoyod, options)
    changed = _sent_note(qoyod, options)
    qoyod.act("credit_notes", gone.qoyod_id, "delete")
    company = qoyod.company()
    with company.lock:
        lines = company.credit_notes[changed.qoyod_id].lines
        lines.append(lines[0])

    run, requests = _reconcile(qoyod)

    found = {(f.kind, f.reference, tuple(f.qoyod_ids), tuple(sorted(f.params.items())))
             for f in run.findings.all()}  # fmt: skip
    assert found == {
        (Kind.CREDIT_NOTE_MISSING, gone.number, (gone.qoyod_id,),
         (("id", gone.qoyod_id), ("number", gone.number))),
        (Kind.CREDIT_NOTE_DRIFT, changed.number, (changed.qoyod_id,),
         (("number", changed.number), ("ours", "253.00"), ("theirs", "368.00"))),
    }  # fmt: skip
    assert (run.missing, run.drift, requests) == (1, 1, 1)
    gone.refresh_from_db()
    assert gone.qoyod_status == ""


def test_a_credit_note_qoyod_holds_twice_under_our_number_is_one_duplicate(qoyod, options):  # noqa: F811
    note = _sent_note(qoyod, options)
    company = qoyod.company()
    with company.lock:
        # A tenant that let a second note take our reference (qoyod-api.md §7.1).
        copy = dataclasses.replace(
            company.credit_notes[note.qoyod_id], id=company.next_id("credit_note")
        )
        company.credit_notes[copy.id] = copy

    run, requests = _reconcile(qoyod)

    [finding] = run.findings.all()
    assert (finding.kind, finding.reference, finding.qoyod_ids, finding.advice) == (
        Kind.CREDIT_NOTE_DUPLICATE, note.number, [note.qoyod_id, copy.id],
        f"Credit note {note.number} is in Qoyod 2 times (ids {note.qoyod_id}, {copy.id}): "
        f"delete the extra drafts in Qoyod and keep {note.qoyod_id}.",
    )  # fmt: skip
    assert (run.duplicates, run.orphans, requests) == (1, 0, 1)
