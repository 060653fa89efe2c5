"""The demo's accounting configuration: a synced chart and the chosen source and VAT accounts.

The chart comes from the demo's sandbox when it is running, by the same Sync configuration a
finance manager would click; otherwise it is mirrored from the sandbox's own default chart
(qoyod_sync/sandbox/chart.py), so the demo's accounts and the sandbox's agree either way.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounting.configuration import accounting_settings_get, configuration_sync
from accounting.models import Account, AccountingSettings, BranchSourceAccount
from accounting.services import accounting_settings_save
from core.messages import Message
from garage.models import Branch
from qoyod_sync.client import quick_options
from qoyod_sync.sandbox import SandboxServer
from qoyod_sync.sandbox.chart import ACTIVE, DEFAULT_CHART

# The sandbox chart's current bank account, input VAT and petty cash (§8.1 ids).
BANK, INPUT_VAT, PETTY_CASH = 8, 20, 21


def demo_accounting_seed(*, user: User, petty_cash_branch: Branch | None) -> str:
    """Sync (or mirror) the chart once and choose the accounts; says where the chart came from."""
    settings = accounting_settings_get()
    origin = "kept"
    if not settings.is_synced:
        synced = configuration_sync(user=user, options=quick_options()).ok
        origin = "sandbox" if synced else "default"
        if not synced:
            _mirror_default_chart(user=user)
    settings.refresh_from_db()
    if settings.source_account is None:
        accounts = {
            a.qoyod_id: a
            for a in Account.objects.filter(qoyod_id__in=[BANK, INPUT_VAT, PETTY_CASH])
        }
        overrides = {}
        if petty_cash_branch is not None and not BranchSourceAccount.objects.exists():
            overrides[petty_cash_branch.pk] = accounts[PETTY_CASH]
        accounting_settings_save(
            source_account=accounts[BANK],
            vat_account=accounts[INPUT_VAT],
            auto_sync=False,
            receipt_required=True,
            branch_sources=overrides,
            user=user,
        )
    return origin


def _mirror_default_chart(*, user: User) -> None:
    now = timezone.now()
    with transaction.atomic():
        for row in DEFAULT_CHART:
            Account.objects.update_or_create(
                qoyod_id=row.id,
                defaults={
                    "code": row.code,
                    "name_en": row.name_en,
                    "name_ar": row.name_ar,
                    "account_type": row.type,
                    "group_type": row.group_type,
                    "nature": row.nature,
                    "parent_type": row.type,
                    "status": Account.Status.ACTIVE
                    if row.status == ACTIVE
                    else Account.Status.INACTIVE,
                    "last_seen_at": now,
                },
            )
        message = Message("accounting.sync.demo_chart", accounts=len(DEFAULT_CHART))
        AccountingSettings.objects.filter(singleton=True).update(
            last_sync_at=now,
            last_synced_ok_at=now,
            last_sync_ok=True,
            last_sync_by=user,
            last_sync_code=message.code,
            last_sync_params=message.params,
            last_sync_qoyod_message="",
            last_sync_counts={
                "accounts": {"new": len(DEFAULT_CHART), "updated": 0, "deactivated": 0,
                             "total": len(DEFAULT_CHART)},
            },
        )  # fmt: skip


# The demo's expenses: (payee, description, amount, VAT, expense account id, receipt?).
_EXPENSES = [
    ("Al Jazira Auto Parts", "Brake pads for stock", "230.00", "30.00", 22, True),
    ("Aldrees", "Fuel for the tow truck", "115.00", "15.00", 24, True),
    ("STC", "Workshop internet", "345.00", "45.00", 28, True),
    ("Saudi Electricity", "Workshop power", "575.00", "75.00", 27, False),
    ("Snap Marketing", "Instagram ads", "460.00", "60.00", 26, True),
    ("Tamimi Markets", "Tea and water for customers", "46.00", "6.00", 22, False),
    ("Saudi Business Machines", "Printer repair", "172.50", "22.50", 25, True),
    ("Al Rajhi Bank", "Card fees", "25.00", "0.00", 23, False),
]
# A 1×1 PNG: a real picture, so the receipts page has something to show.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def demo_transactions_seed(*, user: User, branches: list[Branch]) -> int:
    """A few dozen expenses across the list's states, entered and verified through the same
    services staff use; nothing is marked synced (only a real sync makes an entry id). Runs
    once: a second seed finds them and adds nothing."""
    from datetime import timedelta
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounting.models import Transaction
    from accounting.transactions import transaction_create
    from accounting.verification import transaction_verify

    if Transaction.objects.exists():
        return 0
    accounts = {a.qoyod_id: a for a in Account.objects.all()}
    today = timezone.localdate()
    made = 0
    for week in range(4):
        for n, (payee, text, amount, vat, account_id, receipt) in enumerate(_EXPENSES):
            branch = branches[(week + n) % len(branches)]
            files = [SimpleUploadedFile(f"receipt-{week}-{n}.png", _PNG)] if receipt else []
            row = transaction_create(
                kind=Transaction.Kind.EXPENSE, direction=None,
                date=today - timedelta(days=7 * week + n), amount=Decimal(amount),
                vat_amount=Decimal(vat), payee=payee, payee_vat_number="", description=text,
                branch=branch, budget=None, employee=user, job=None, receipts=files, user=user,
            )  # fmt: skip
            made += 1
            # The newest week waits for an account; the older ones are assigned and most
            # verified (ready to sync), a receipt-less one with a lost-receipt reason.
            if week == 0:
                continue
            Transaction.objects.filter(pk=row.pk).update(account=accounts[account_id])
            if week == 3 and not receipt:
                continue  # assigned, but no receipt: verify is refused until one is added
            transaction_verify(
                row=row, receipt_lost_reason="" if receipt else "Paper receipt lost", user=user
            )
    return made


# Where `make run` serves the app: the receipts link at the end of each demo entry points here.
DEMO_SITE = "http://127.0.0.1:8000"


def demo_transactions_sync(*, server: SandboxServer, user: User) -> dict[str, int]:
    """Sync the oldest verified demo expenses through the sandbox as a person would: most become
    entries, one is refused by Qoyod (its account removed there since the chart was synced) and
    one loses Qoyod's answer after it saved (may already exist: Retry finds it). Runs once."""
    from accounting.models import Transaction
    from accounting.sync import transaction_sync

    if Transaction.objects.exclude(state=Transaction.SyncState.NOT_SYNCED).exists():
        return {}
    rows = list(
        Transaction.objects.filter(verified_at__isnull=False, account__isnull=False)
        .select_related("account")
        .order_by("date", "number")[:8]
    )
    done: dict[str, int] = {}
    for index, row in enumerate(rows):
        if index == len(rows) - 2:
            account = row.account.qoyod_id if row.account else 0
            refusal = {"errors": f"Plutus::Account id {account} is not valid"}
            server.faults.fail_next(
                status=422, body=refusal, method="POST", path="/journal_entries"
            )
        elif index == len(rows) - 1:
            server.faults.drop_next(commit=True, method="POST", path="/journal_entries")
        [result] = transaction_sync(pks=[row.pk], user=user, site=DEMO_SITE)
        done[result.state] = done.get(result.state, 0) + 1
    server.faults.clear()
    return done
