"""Where an invoice stands with Qoyod and what may be done about it, decided in one place.

sync_status(invoice, sync) gives the state to show and act on, whether the invoice waits in the
retry queue, and each action (send, retry, delete the old draft, refresh) either offered or
refused with the sentence the user reads. The Qoyod column and panel, the retry queue page, the
send claim and the draft delete all read it, so a button is offered exactly when pressing it
would be accepted. Permissions are the caller's business: this says what the invoice allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeGuard

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from invoicing.models import Invoice
from payments.models import QoyodPaymentState, QoyodStatus
from qoyod_sync.models import QoyodInvoiceSync, SyncState, retry_queued

S = SyncState


class Action(StrEnum):
    SEND = "send"
    RETRY = "retry"
    DELETE_DRAFT = "delete_draft"
    REFRESH = "refresh"


@dataclass(frozen=True)
class Why:
    """A refusal, put into words in the reader's language only when read: a list decides every
    action of each row it draws and shows few of the sentences."""

    # Marked with gettext_noop, translated when read.
    text: str
    number: str | None = None

    def __str__(self) -> str:
        words = _(self.text)
        return words if self.number is None else words % {"number": self.number}


@dataclass(frozen=True)
class SyncStatus:
    state: str
    in_retry_queue: bool
    # Every action that is not offered, with the reason; the others are offered.
    refusals: dict[Action, Why]

    @property
    def label(self) -> str:
        return str(SyncState(self.state).label)

    @property
    def actions(self) -> frozenset[Action]:
        return frozenset(Action) - self.refusals.keys()

    def refusal(self, action: Action) -> str | None:
        why = self.refusals.get(action)
        return None if why is None else str(why)

    # For templates, which cannot pass an argument.
    @property
    def can_send(self) -> bool:
        return Action.SEND in self.actions

    @property
    def can_retry(self) -> bool:
        return Action.RETRY in self.actions


def sync_for(invoice: Invoice) -> QoyodInvoiceSync | None:
    """The invoice's sync row (None if it has none)."""
    # The list and the invoice page load it with the invoice (select_related), so a row costs
    # no query; a row drawn alone reads it once, as the relation keeps what it read (a missing
    # row too) for every later cell of the same invoice.
    try:
        return invoice.qoyod_sync
    except ObjectDoesNotExist:
        return None


def payment_state_for(invoice: Invoice) -> QoyodPaymentState | None:
    """The invoice's read-back Qoyod state (None if never read)."""
    # Loaded with the invoice like its sync row (sync_for), and kept on it the same way.
    try:
        return invoice.qoyod_payment_state
    except ObjectDoesNotExist:
        return None


def effective_state(invoice: Invoice, sync: QoyodInvoiceSync | None) -> str:
    """The state the send claim acts on (design.md §4), before it writes anything.

    A sending row whose lease lapsed may have reached Qoyod, so it is unknown. The invoice's own
    flag wins over a ready, failed or not-required row: "Requires Qoyod invoice" may have been
    ticked or unticked since the row was written. An invoice with no row was never sent from
    here, unless it is managed in Qoyod by some other path.
    """
    if sync is None:
        if invoice.qoyod_managed:
            return S.DRAFT_CREATED
        return S.READY if invoice.requires_qoyod else S.NOT_REQUIRED
    state = sync.effective_state
    if state in (S.READY, S.FAILED, S.REFERENCE_COLLISION) and not invoice.requires_qoyod:
        return S.NOT_REQUIRED
    if state == S.NOT_REQUIRED and invoice.requires_qoyod:
        return S.READY
    return state


def claim_refusal(
    invoice: Invoice, sync: QoyodInvoiceSync | None, state: str, *, retry: bool
) -> str | None:
    """Why a send (or, with `retry`, a retry) of an invoice whose row is in `state` is refused."""
    why = _claim_why(invoice, sync, state, retry=retry)
    return None if why is None else str(why)


def _claim_why(
    invoice: Invoice, sync: QoyodInvoiceSync | None, state: str, *, retry: bool
) -> Why | None:
    number = invoice.number
    if invoice.is_void:
        return Why(gettext_noop("%(number)s is void; it is not sent to Qoyod."), number)
    if invoice.qoyod_managed and (sync is None or sync.state != S.DRAFT_CREATED):
        # Managed in Qoyod by some other path (no send recorded here): never a second draft.
        return Why(gettext_noop("%(number)s is already managed in Qoyod."), number)
    if state == S.SENDING:
        return Why(gettext_noop("%(number)s is already being sent to Qoyod."), number)
    if state == S.DRAFT_CREATED:
        return Why(gettext_noop("%(number)s already has a draft in Qoyod."), number)
    if state in (S.FAILED, S.UNKNOWN, S.REFERENCE_COLLISION):
        if retry:
            return None
        return Why(
            gettext_noop("%(number)s needs a retry, not a new send: see the reason, then Retry."),
            number,
        )
    if state == S.READY:
        if not retry:
            return None
        return Why(
            gettext_noop("%(number)s has not been sent yet: use Send draft to Qoyod."), number
        )
    return Why(gettext_noop("%(number)s is not marked “Requires Qoyod invoice”."), number)


def _has_draft(sync: QoyodInvoiceSync | None) -> TypeGuard[QoyodInvoiceSync]:
    return sync is not None and sync.state == S.DRAFT_CREATED


def _delete_draft_why(invoice: Invoice, sync: QoyodInvoiceSync | None) -> Why | None:
    if not invoice.is_void:
        return Why(gettext_noop("Void the invoice here first; then its Qoyod draft can go."))
    if not _has_draft(sync):
        return Why(gettext_noop("%(number)s has no draft in Qoyod."), invoice.number)
    if sync.draft_deleted_at is not None:
        return Why(gettext_noop("The Qoyod draft was already deleted."))
    if invoice.approved_in_qoyod:
        # Qoyod deletes drafts only (qoyod-api.md §5); an approved invoice is credited instead.
        return Why(gettext_noop("Qoyod has approved %(number)s, so it cannot be deleted there: a "
                                "credit note corrects it."), invoice.number)  # fmt: skip
    return None


def _refresh_why(invoice: Invoice, sync: QoyodInvoiceSync | None) -> Why | None:
    """readback.fetch.refreshable_invoices is the same rule as a query."""
    refreshable = (
        invoice.qoyod_managed
        and not invoice.is_void
        and _has_draft(sync)
        and sync.qoyod_invoice_id is not None
        and sync.draft_deleted_at is None
    )
    if refreshable:
        return None
    return Why(gettext_noop("%(number)s has no draft in Qoyod."), invoice.number)


def sync_status(invoice: Invoice, sync: QoyodInvoiceSync | None) -> SyncStatus:
    """Where `invoice` (whose sync row is `sync`, None if it has none) stands with Qoyod."""
    state = effective_state(invoice, sync)
    refusals = {
        Action.SEND: _claim_why(invoice, sync, state, retry=False),
        Action.RETRY: _claim_why(invoice, sync, state, retry=True),
        Action.DELETE_DRAFT: _delete_draft_why(invoice, sync),
        Action.REFRESH: _refresh_why(invoice, sync),
    }
    return SyncStatus(
        state=state,
        in_retry_queue=sync is not None and retry_queued(sync.effective_state, invoice),
        refusals={action: why for action, why in refusals.items() if why is not None},
    )


def _credited_by_a_note(invoice: Invoice) -> bool:
    # The invoice list reads it with each row (has_credit_notes); the invoice page has read
    # its credit notes.
    known = getattr(invoice, "has_credit_notes", None)
    return bool(known) if known is not None else invoice.credit_notes.exists()


@dataclass(frozen=True)
class QoyodStanding:
    """Where the invoice's document stands in Qoyod, as last read back: one badge, one next step.

    The business status here (issued, paid, void) is the invoice's own badge; this is the other
    one, so a row never shows "draft created", "draft deleted" and "In Qoyod: Draft" at once.
    """

    code: str
    label: str
    tone: str
    next_step: str


def qoyod_standing(
    invoice: Invoice, sync: QoyodInvoiceSync | None, payment: QoyodPaymentState | None
) -> QoyodStanding | None:
    """Qoyod's state of `invoice`'s draft (None while it has none), with what to do next."""
    if effective_state(invoice, sync) != S.DRAFT_CREATED:
        return None
    status = payment.qoyod_status if payment is not None else ""
    if sync is not None and sync.draft_deleted_at is not None:
        return QoyodStanding(
            "deleted",
            _("Deleted in Qoyod"),
            "secondary",
            _("The old draft was deleted in Qoyod; nothing to do there."),
        )
    if status == QoyodStatus.MISSING:
        return QoyodStanding(
            "returned",
            _("Returned by accounting"),
            "danger",
            _(
                "The draft was deleted in Qoyod instead of being approved. Check with the "
                "accountant, then void and reissue."
            ),
        )
    if status in ("", QoyodStatus.DRAFT, QoyodStatus.AWAITING_APPROVAL):
        awaiting = status == QoyodStatus.AWAITING_APPROVAL
        if invoice.is_void:
            step = _("This invoice is void here: delete its old draft in Qoyod.")
        elif awaiting:
            step = _("It waits in Qoyod's approval workflow: an approver approves it there.")
        else:
            step = _("The accountant approves it in Qoyod.")
        if awaiting:
            return QoyodStanding("awaiting_approval", _("Awaiting approval"), "info", step)
        return QoyodStanding("draft", _("Draft"), "secondary", step)
    if status == QoyodStatus.PAID and payment is not None and payment.credited_in_full:
        # The read-back made it paid here, but nobody paid: Qoyod's credit notes cancelled it.
        step = (
            _("Nothing to do: credit notes cover it in full in Qoyod.")
            if invoice.is_void
            else _(
                "Credit notes cancelled it in full in Qoyod, but it is not void here: void it "
                "here to match (no credit note is made again)."
            )
        )
        return QoyodStanding("credited", _("Credited"), "dark", step)
    if invoice.is_void and invoice.pk is not None and _credited_by_a_note(invoice):
        step = _(
            "This invoice is void here and credited by the credit note below: once it is sent, "
            "the accountant approves it in Qoyod."
        )
    elif invoice.is_void:
        # Approved documents cannot be deleted or edited in Qoyod (qoyod-api.md §5, §7.1).
        step = _(
            "This invoice is void here but approved in Qoyod: the accountant issues a credit "
            "note against it in Qoyod."
        )
    elif status == QoyodStatus.PAID:
        step = _("Nothing to do: it is paid in full in Qoyod.")
    elif status == QoyodStatus.PARTIALLY_PAID:
        step = _("Record the rest of the payment in Qoyod when it comes.")
    else:
        step = _("Record the customer's payment in Qoyod when it comes.")
    if status == QoyodStatus.PAID:
        return QoyodStanding("paid", _("Paid"), "success", step)
    if status == QoyodStatus.PARTIALLY_PAID:
        return QoyodStanding("partially_paid", _("Partially paid"), "warning", step)
    return QoyodStanding("approved", _("Approved (unpaid)"), "primary", step)
