"""The derived sync state: every invoice status × sync state (a lapsed send included) gives exactly
the state, retry-queue membership and actions below; the send claim and the draft delete refuse
with the status's own sentence; the admin filter, the page and the per-row rule list the same
invoices."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from core import roles
from invoicing.models import Invoice
from qoyod_sync.models import QoyodInvoiceSync, SyncState
from qoyod_sync.push import SendRefused, invoice_send_draft
from qoyod_sync.readback import fetch
from qoyod_sync.services import invoice_qoyod_draft_delete
from qoyod_sync.status import Action, sync_status
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory

S = SyncState
SEND, RETRY, DELETE, REFRESH = Action.SEND, Action.RETRY, Action.DELETE_DRAFT, Action.REFRESH
LIVE = datetime.timedelta(minutes=5)
LAPSED = datetime.timedelta(seconds=-1)

# The sync row an invoice has: (state, lease left from now, draft deleted), or None for no row.
SYNCS = {
    "no row": None,
    "not required": (S.NOT_REQUIRED, None, False),
    "ready": (S.READY, None, False),
    "sending": (S.SENDING, LIVE, False),
    "sending, lease lapsed": (S.SENDING, LAPSED, False),
    "draft created": (S.DRAFT_CREATED, None, False),
    "draft created, deleted in Qoyod": (S.DRAFT_CREATED, None, True),
    "failed": (S.FAILED, None, False),
    "unknown": (S.UNKNOWN, None, False),
    "reference collision": (S.REFERENCE_COLLISION, None, False),
}
Q_ = True  # in the retry queue
# (invoice void?, "Requires Qoyod invoice" ticked?) -> sync -> (state shown, queued, actions)
EXPECTED: dict[tuple[bool, bool], dict[str, tuple[str, bool, set[Action]]]] = {
    (False, True): {
        "no row": (S.READY, False, {SEND}),
        "not required": (S.READY, False, {SEND}),  # ticked since the row was written
        "ready": (S.READY, False, {SEND}),
        "sending": (S.SENDING, False, set()),
        "sending, lease lapsed": (S.UNKNOWN, Q_, {RETRY}),
        "draft created": (S.DRAFT_CREATED, False, {REFRESH}),
        "draft created, deleted in Qoyod": (S.DRAFT_CREATED, False, set()),
        "failed": (S.FAILED, Q_, {RETRY}),
        "unknown": (S.UNKNOWN, Q_, {RETRY}),
        # Queued for a person; Retry looks the reference up again before anything else.
        "reference collision": (S.REFERENCE_COLLISION, Q_, {RETRY}),
    },
    (False, False): {
        "no row": (S.NOT_REQUIRED, False, set()),
        "not required": (S.NOT_REQUIRED, False, set()),
        "ready": (S.NOT_REQUIRED, False, set()),  # unticked since
        "sending": (S.SENDING, False, set()),
        "sending, lease lapsed": (S.UNKNOWN, Q_, {RETRY}),
        "draft created": (S.DRAFT_CREATED, False, {REFRESH}),
        "draft created, deleted in Qoyod": (S.DRAFT_CREATED, False, set()),
        "failed": (S.NOT_REQUIRED, False, set()),
        "unknown": (S.UNKNOWN, Q_, {RETRY}),
        "reference collision": (S.NOT_REQUIRED, False, set()),
    },
    # Void: nothing is sent, retried or refreshed; an unknown send stays queued for a person to
    # check in Qoyod, and a draft created before the void may be deleted.
    (True, True): {
        "no row": (S.READY, False, set()),
        "not required": (S.READY, False, set()),
        "ready": (S.READY, False, set()),
        "sending": (S.SENDING, False, set()),
        "sending, lease lapsed": (S.UNKNOWN, Q_, set()),
        "draft created": (S.DRAFT_CREATED, False, {DELETE}),
        "draft created, deleted in Qoyod": (S.DRAFT_CREATED, False, set()),
        "failed": (S.FAILED, False, set()),
        "unknown": (S.UNKNOWN, Q_, set()),
        # Nothing of ours is in Qoyod and nothing will be sent: nothing left to resolve.
        "reference collision": (S.REFERENCE_COLLISION, False, set()),
    },
    (True, False): {
        "no row": (S.NOT_REQUIRED, False, set()),
        "not required": (S.NOT_REQUIRED, False, set()),
        "ready": (S.NOT_REQUIRED, False, set()),
        "sending": (S.SENDING, False, set()),
        "sending, lease lapsed": (S.UNKNOWN, Q_, set()),
        "draft created": (S.DRAFT_CREATED, False, {DELETE}),
        "draft created, deleted in Qoyod": (S.DRAFT_CREATED, False, set()),
        "failed": (S.NOT_REQUIRED, False, set()),
        "unknown": (S.UNKNOWN, Q_, set()),
        "reference collision": (S.NOT_REQUIRED, False, set()),
    },
}
TABLE = [
    pytest.param(status, requires, sync, id=f"{status}-{'qoyod' if requires else 'local'}-{sync}")
    for status in Invoice.Status.values
    for requires in (True, False)
    for sync in SYNCS
]


def _objects(status: str, requires: bool, sync: str) -> tuple[Invoice, QoyodInvoiceSync | None]:
    """Unsaved: sync_status reads only what it is handed."""
    spec = SYNCS[sync]
    managed = spec is not None and spec[0] == S.DRAFT_CREATED
    invoice = Invoice(number="INV-2026-000001", status=status, requires_qoyod=requires,
                      qoyod_managed=managed)  # fmt: skip
    if spec is None:
        return invoice, None
    state, lease, deleted = spec
    now = timezone.now()
    row = QoyodInvoiceSync(
        invoice=invoice, state=state, lease_until=now + lease if lease else None,
        qoyod_invoice_id=41 if state == S.DRAFT_CREATED else None,
        draft_deleted_at=now if deleted else None,
    )  # fmt: skip
    return invoice, row


@pytest.mark.parametrize(("status", "requires", "sync"), TABLE)
def test_every_status_and_sync_state_offers_exactly_these_actions(status, requires, sync):
    invoice, row = _objects(status, requires, sync)

    got = sync_status(invoice, row)

    void = status == Invoice.Status.VOID
    state, queued, actions = EXPECTED[(void, requires)][sync]
    assert (got.state, got.in_retry_queue, got.actions) == (state, queued, frozenset(actions))
    assert got.refusals.keys() == set(Action) - actions
    assert all(str(why) for why in got.refusals.values())


def test_refusals_are_the_sentences_the_user_reads():
    def why(status: str, requires: bool, sync: str, action: Action) -> str | None:
        return sync_status(*_objects(status, requires, sync)).refusal(action)

    n = "INV-2026-000001"
    assert why("issued", True, "sending", SEND) == f"{n} is already being sent to Qoyod."
    assert why("issued", True, "draft created", RETRY) == f"{n} already has a draft in Qoyod."
    assert why("issued", True, "failed", SEND) == (
        f"{n} needs a retry, not a new send: see the reason, then Retry."
    )
    assert why("issued", True, "ready", RETRY) == (
        f"{n} has not been sent yet: use Send draft to Qoyod."
    )
    assert why("issued", False, "failed", RETRY) == f"{n} is not marked “Requires Qoyod invoice”."
    assert why("void", True, "unknown", RETRY) == f"{n} is void; it is not sent to Qoyod."
    assert why("issued", True, "draft created", DELETE) == (
        "Void the invoice here first; then its Qoyod draft can go."
    )
    assert why("void", True, "draft created, deleted in Qoyod", DELETE) == (
        "The Qoyod draft was already deleted."
    )
    assert why("issued", True, "ready", REFRESH) == f"{n} has no draft in Qoyod."


def test_a_refusal_is_put_into_words_in_the_language_of_whoever_reads_it():
    status = sync_status(*_objects("issued", True, "sending"))

    with translation.override("ar"):
        arabic = status.refusal(SEND)
    english = status.refusal(SEND)

    assert english == "INV-2026-000001 is already being sent to Qoyod."
    assert arabic is not None and "INV-2026-000001" in arabic
    assert arabic != english and any("\u0600" <= ch <= "\u06ff" for ch in arabic)


def test_an_invoice_managed_in_qoyod_without_a_send_here_is_never_sent():
    invoice = Invoice(number="INV-1", status="issued", requires_qoyod=True, qoyod_managed=True)
    row = QoyodInvoiceSync(invoice=invoice, state=S.READY)

    got = sync_status(invoice, row)

    assert got.actions == frozenset()
    assert got.refusal(SEND) == "INV-1 is already managed in Qoyod."


# ---- against the database: the claim, the delete and the queue agree with the table -------


def _saved(status: str, requires: bool, sync: str) -> Invoice:
    invoice = InvoiceFactory(requires_qoyod=requires)
    spec = SYNCS[sync]
    managed = spec is not None and spec[0] == S.DRAFT_CREATED
    Invoice.objects.filter(pk=invoice.pk).update(status=status, qoyod_managed=managed)
    if spec is not None:
        state, lease, deleted = spec
        now = timezone.now()
        QoyodInvoiceSync.objects.create(
            invoice=invoice, state=state, lease_until=now + lease if lease else None,
            claim_token="t" if lease else "",
            qoyod_invoice_id=41 if state == S.DRAFT_CREATED else None,
            draft_deleted_at=now if deleted else None,
        )  # fmt: skip
    return Invoice.objects.get(pk=invoice.pk)


def _row(invoice: Invoice) -> tuple | None:
    return (
        QoyodInvoiceSync.objects.filter(invoice=invoice)
        .values_list("state", "lease_until", "attempts", "draft_deleted_at")
        .first()
    )


REFUSED = [
    pytest.param(status, requires, sync, action, id=f"{status}-{requires}-{sync}-{action}")
    for status in ("issued", "void")
    for requires in (True, False)
    for sync in SYNCS
    for action in (SEND, RETRY, DELETE)
    if action not in EXPECTED[(status == "void", requires)][sync][2]
]


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "requires", "sync", "action"), REFUSED)
def test_a_refused_action_is_refused_by_its_service_with_the_same_sentence(
    status, requires, sync, action
):
    invoice = _saved(status, requires, sync)
    expected = sync_status(invoice, QoyodInvoiceSync.objects.filter(invoice=invoice).first())
    before = _row(invoice)

    with pytest.raises(ValidationError) as raised:
        if action == DELETE:
            invoice_qoyod_draft_delete(invoice=invoice, user=None)
        else:
            invoice_send_draft(invoice=invoice, user=None, retry=action == RETRY)

    if action != DELETE:
        assert isinstance(raised.value, SendRefused)
    assert raised.value.messages == [expected.refusal(action)]
    assert _row(invoice) == before


@pytest.mark.django_db
def test_the_admin_filter_the_page_and_the_row_rule_list_the_same_invoices():
    made = {
        (status, requires, sync): _saved(status, requires, sync)
        for status in Invoice.Status.values
        for requires in (True, False)
        for sync in SYNCS
        if SYNCS[sync] is not None
    }
    expected = {
        invoice.pk
        for (status, requires, sync), invoice in made.items()
        if EXPECTED[(status == "void", requires)][sync][1]
    }
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True, role=roles.ADMIN))

    admin = client.get(reverse("admin:qoyod_sync_qoyodinvoicesync_changelist"), {"queue": "yes"})
    page = client.get(reverse("qoyod_sync:retry_queue"))

    listed_by_admin = {row.invoice_id for row in admin.context["cl"].result_list}
    listed_by_page = {sync.invoice_id for sync in page.context["page"]}
    per_row = {s.invoice_id for s in QoyodInvoiceSync.objects.all() if s.in_retry_queue}
    assert len(expected) == 22  # 3 open statuses × 6, and void × 4
    assert listed_by_admin == listed_by_page == per_row == expected


@pytest.mark.django_db
def test_refresh_is_offered_for_exactly_the_invoices_the_read_back_reads():
    made = [
        _saved(status, requires, sync)
        for status in Invoice.Status.values
        for requires in (True, False)
        for sync in SYNCS
    ]
    rows = {s.invoice_id: s for s in QoyodInvoiceSync.objects.all()}

    offered = {i.pk for i in made if REFRESH in sync_status(i, rows.get(i.pk)).actions}

    assert len(offered) == 6  # draft created, not deleted, not void: 3 statuses × 2 flags
    assert offered == set(fetch.refreshable_targets())
