"""The send state machine: allowed moves, the one function that makes them, the lease."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.messages import Message
from qoyod_sync.models import QoyodInvoiceSync, QoyodSyncStateChange
from qoyod_sync.models import SyncState as S

# Allowed moves (design.md §4). Unticking "Requires Qoyod invoice" moves no row: qoyod_sync.status
# derives "not required" from the invoice's flag. A row stored as not required (written before
# that) becomes ready when the flag is ticked and a send starts. A refused API key fails the send
# like any other stop, so the invoice waits in the retry queue.
TRANSITIONS: dict[str, set[str]] = {
    S.NOT_REQUIRED: {S.READY},
    S.READY: {S.SENDING},
    S.SENDING: {S.DRAFT_CREATED, S.FAILED, S.UNKNOWN, S.READY, S.REFERENCE_COLLISION},
    S.FAILED: {S.SENDING},
    S.UNKNOWN: {S.SENDING},
    # Retry looks the number up again: linked if the document now matches, created if gone.
    S.REFERENCE_COLLISION: {S.SENDING},
    S.DRAFT_CREATED: set(),
}
# A send's Qoyod calls share one budget of settings.QOYOD_DEADLINE (push.invoice_send_draft), so
# a request still holding the claim this much later died (or gunicorn killed it), and its row is
# treated as unknown. The margin covers recording the outcome after the last call.
LEASE_MARGIN = timedelta(seconds=5)
LEASE = timedelta(seconds=settings.QOYOD_DEADLINE) + LEASE_MARGIN


class IllegalTransition(Exception):
    """A move the table does not allow: a bug, not a user error."""


class StateConflict(Exception):
    """The row was no longer in the state we read: another request moved it first."""


class SendRefused(ValidationError):
    """The send could not start (already sent, being sent, not marked for Qoyod, void)."""


def compare_and_set(
    *,
    rows: QuerySet[Any],
    from_state: str,
    to_state: str,
    table: Mapping[str, set[str]],
    history: Callable[[datetime], object],
    expect_token: str | None = None,
    condition: Q | None = None,
    **fields: Any,
) -> None:
    """Move the one row of `rows` from `from_state` to `to_state`, and write its history row
    (`history(now)`) in the same short transaction.

    The update is a compare-and-set on the state read (and `expect_token`, when given): if
    another request moved the row first nothing changes and StateConflict is raised. Shared by
    the invoice send and the journal-entry sync (accounting/sync.py).
    """
    if to_state not in table[from_state]:
        raise IllegalTransition(f"{from_state} -> {to_state}")
    rows = rows.filter(state=from_state)
    if expect_token is not None:
        rows = rows.filter(claim_token=expect_token)
    if condition is not None:
        rows = rows.filter(condition)
    now = timezone.now()
    with transaction.atomic():
        if not rows.update(state=to_state, updated_at=now, **fields):
            raise StateConflict(f"no longer {from_state}")
        history(now)


def sync_transition(
    *,
    sync: QoyodInvoiceSync,
    to_state: str,
    user: User | None,
    note: Message | None = None,
    expect_token: str | None = None,
    condition: Q | None = None,
    **fields: Any,
) -> None:
    """Move `sync` from the state it was read in to `to_state` and write a history row."""
    from_state = sync.state

    def history(now: datetime) -> None:
        QoyodSyncStateChange.objects.create(
            sync=sync, from_state=from_state, to_state=to_state,
            reason_code=note.code if note else "", reason_params=note.params if note else {},
            qoyod_message=note.qoyod_message if note else "", changed_by=user, changed_at=now,
        )  # fmt: skip

    compare_and_set(
        rows=QoyodInvoiceSync.objects.filter(pk=sync.pk), from_state=from_state,
        to_state=to_state, table=TRANSITIONS, history=history, expect_token=expect_token,
        condition=condition, **fields,
    )  # fmt: skip
    sync.refresh_from_db()
