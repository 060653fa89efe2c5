"""The send state machine: allowed moves, the one function that makes them, the lease."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.messages import Message
from qoyod_sync.models import QoyodInvoiceSync, QoyodSyncStateChange
from qoyod_sync.models import SyncState as S

# Allowed moves (design.md §4). SENDING goes back to where it came from when Qoyod refuses the
# API key: the invoice waits for the finance manager, not in the retry queue as a failure.
# Unticking "Requires Qoyod invoice" moves no row: qoyod_sync.status derives "not required" from
# the invoice's flag. A row stored as not required (written before that) becomes ready when the
# flag is ticked and a send starts.
TRANSITIONS: dict[str, set[str]] = {
    S.NOT_REQUIRED: {S.READY},
    S.READY: {S.SENDING},
    S.SENDING: {S.DRAFT_CREATED, S.FAILED, S.UNKNOWN, S.READY},
    S.FAILED: {S.SENDING},
    S.UNKNOWN: {S.SENDING},
    S.DRAFT_CREATED: set(),
}
# A send makes a handful of calls, each bounded by the client's deadline; a request that has not
# finished by then died, and its row is treated as unknown.
LEASE = timedelta(minutes=5)


class IllegalTransition(Exception):
    """A move the table does not allow: a bug, not a user error."""


class StateConflict(Exception):
    """The row was no longer in the state we read: another request moved it first."""


class SendRefused(ValidationError):
    """The send could not start (already sent, being sent, not marked for Qoyod, void)."""


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
    """Move `sync` from the state it was read in to `to_state` and write a history row.

    The update is a compare-and-set on the state read (and `expect_token`, when given): if
    another request moved the row first nothing changes and StateConflict is raised.
    """
    from_state = sync.state
    if to_state not in TRANSITIONS[from_state]:
        raise IllegalTransition(f"{from_state} -> {to_state}")
    rows = QoyodInvoiceSync.objects.filter(pk=sync.pk, state=from_state)
    if expect_token is not None:
        rows = rows.filter(claim_token=expect_token)
    if condition is not None:
        rows = rows.filter(condition)
    now = timezone.now()
    with transaction.atomic():
        if not rows.update(state=to_state, updated_at=now, **fields):
            raise StateConflict(f"{sync.pk} is no longer {from_state}")
        QoyodSyncStateChange.objects.create(
            sync=sync, from_state=from_state, to_state=to_state,
            reason_code=note.code if note else "", reason_params=note.params if note else {},
            qoyod_message=note.qoyod_message if note else "", changed_by=user, changed_at=now,
        )  # fmt: skip
    sync.refresh_from_db()
