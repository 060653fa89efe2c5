"""Configuration sync: the chart of accounts, warehouses and taxes read from Qoyod.

Only reads Qoyod, through the reader, so the daily Celery task may run it as well as the
Sync configuration button (tests/qoyod_sync/test_tasks.py walks it). Reads happen first, outside
any transaction; what they found is recorded after, in one short transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounting.models import Account, AccountingSettings
from core.messages import Message
from qoyod_sync.client import ClientOptions
from qoyod_sync.errors import QoyodError, QoyodUnauthorised
from qoyod_sync.messages import with_detail
from qoyod_sync.services import (
    ConnectionUnusable,
    connection_catalogue_merge,
    connection_get,
    connection_reader,
)
from qoyod_sync.types import Account as QoyodAccount
from qoyod_sync.types import Tax, Warehouse

# The fields a sync copies from Qoyod.
_COPIED = (
    "code",
    "name_en",
    "name_ar",
    "account_type",
    "group_type",
    "nature",
    "parent_type",
    "status",
)


@dataclass(frozen=True)
class Read:
    accounts: list[QoyodAccount]
    warehouses: list[Warehouse]
    taxes: list[Tax]


@dataclass
class SyncOutcome:
    ok: bool
    message: Message
    counts: dict[str, Any] = field(default_factory=dict)


def accounting_settings_get() -> AccountingSettings:
    """The one settings row, created on first use."""
    found, _created = AccountingSettings.objects.get_or_create(singleton=True)
    return found


def configuration_sync(*, user: User | None, options: ClientOptions | None = None) -> SyncOutcome:
    """Read accounts, warehouses and taxes from Qoyod and bring the mirrors in line."""
    outcome = _read(options)
    if isinstance(outcome, SyncOutcome):
        _record(outcome, user=user)
        return outcome
    with transaction.atomic():
        accounts = _accounts_store(outcome.accounts)
        catalogue = connection_catalogue_merge(
            warehouses=outcome.warehouses, taxes=outcome.taxes, accounts=outcome.accounts
        )
        counts = {
            "accounts": accounts,
            "warehouses": catalogue["warehouses"],
            "taxes": catalogue["taxes"],
        }
        message = Message(
            "accounting.sync.done",
            accounts=accounts["total"],
            new=accounts["new"],
            updated=accounts["updated"],
            deactivated=accounts["deactivated"],
            warehouses=catalogue["warehouses"]["total"],
            taxes=catalogue["taxes"]["total"],
        )
        result = SyncOutcome(ok=True, message=message, counts=counts)
        _record(result, user=user)
    return result


def _read(options: ClientOptions | None) -> Read | SyncOutcome:
    connection = connection_get()
    if connection is None:
        return SyncOutcome(ok=False, message=Message("accounting.sync.connect_first"))
    try:
        reader = connection_reader(connection, options=options)
        return Read(
            accounts=reader.list_accounts(),
            warehouses=reader.list_warehouses(),
            taxes=reader.list_taxes(),
        )
    except ConnectionUnusable as exc:
        return SyncOutcome(ok=False, message=exc.reason)
    except QoyodUnauthorised:
        return SyncOutcome(ok=False, message=Message("accounting.sync.key_refused"))
    except QoyodError as exc:
        return SyncOutcome(ok=False, message=with_detail("accounting.sync.failed", exc))


def _accounts_store(remote: list[QoyodAccount]) -> dict[str, int]:
    """Upsert the accounts read; an account no longer listed is marked removed, never deleted."""
    now = timezone.now()
    local = {a.qoyod_id: a for a in Account.objects.select_for_update()}
    new, seen = [], []
    updated = deactivated = 0
    for account in remote:
        status = Account.Status.ACTIVE if account.is_active else Account.Status.INACTIVE
        values = {
            "code": account.code,
            "name_en": account.name_en,
            "name_ar": account.name_ar,
            "account_type": account.type,
            "group_type": account.group_type,
            "nature": account.type_of_account,
            "parent_type": account.parent_type,
            "status": status,
        }
        row = local.get(account.id)
        if row is None:
            new.append(Account(qoyod_id=account.id, last_seen_at=now, **values))
            continue
        if row.is_active and status != Account.Status.ACTIVE:
            deactivated += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            updated += 1
        for name, value in values.items():
            setattr(row, name, value)
        row.last_seen_at = now
        seen.append(row)
    Account.objects.bulk_create(new)
    Account.objects.bulk_update(seen, [*_COPIED, "last_seen_at"])
    listed = {a.id for a in remote}
    gone = [
        row
        for qoyod_id, row in local.items()
        if qoyod_id not in listed and row.status != Account.Status.REMOVED
    ]
    deactivated += sum(1 for row in gone if row.is_active)
    Account.objects.filter(pk__in=[row.pk for row in gone]).update(status=Account.Status.REMOVED)
    return {
        "new": len(new),
        "updated": updated,
        "deactivated": deactivated,
        "total": len(remote),
    }


def _record(outcome: SyncOutcome, *, user: User | None) -> None:
    with transaction.atomic():
        accounting_settings_get()
        row = AccountingSettings.objects.select_for_update().get(singleton=True)
        now = timezone.now()
        row.last_sync_at, row.last_sync_ok, row.last_sync_by = now, outcome.ok, user
        row.last_sync_code, row.last_sync_params = outcome.message.code, outcome.message.params
        row.last_sync_qoyod_message = outcome.message.qoyod_message
        if outcome.ok:
            row.last_sync_counts = outcome.counts
            row.last_synced_ok_at = now
        row.save()


def configuration_auto_sync(*, options: ClientOptions | None = None) -> SyncOutcome | None:
    """The daily refresh: a sync when Auto sync is on and Qoyod is connected, else nothing."""
    settings = AccountingSettings.objects.filter(singleton=True).first()
    if settings is None or not settings.auto_sync or connection_get() is None:
        return None
    return configuration_sync(user=None, options=options)
