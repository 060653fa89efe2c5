"""Reads of the chart and the settings for pages, forms and the later journal-entry sync."""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounting.models import (
    Account,
    AccountingSettings,
    AccountType,
    BranchSourceAccount,
    Receipt,
    Transaction,
)
from core.paging import capped_counts


def chart_accounts() -> list[Account]:
    """Every mirrored account, active first, by code."""
    return sorted(Account.objects.all(), key=lambda a: (not a.is_active, a.code, a.qoyod_id))


def source_account_choices() -> QuerySet[Account]:
    """Accounts that can fund spending: active asset accounts (bank, cash, card)."""
    return Account.objects.active().filter(account_type=AccountType.ASSET)


def vat_account_choices() -> QuerySet[Account]:
    """Accounts that can hold input VAT: active asset or liability accounts."""
    return Account.objects.active().filter(
        account_type__in=[AccountType.ASSET, AccountType.LIABILITY]
    )


def tax_choices() -> list[tuple[int, str]]:
    """The Qoyod taxes the connection last read (its catalogue), for a choice field."""
    from qoyod_sync.models import QoyodConnection

    catalogue = QoyodConnection.objects.values_list("catalogue", flat=True).first() or {}
    return [(row["id"], str(row.get("name") or row["id"])) for row in catalogue.get("taxes", [])]


def source_account_for(*, branch_id: int | None) -> Account | None:
    """The source account of a branch: its own override, else the garage's."""
    if branch_id is not None:
        override = (
            BranchSourceAccount.objects.select_related("account")
            .filter(branch_id=branch_id)
            .first()
        )
        if override is not None:
            return override.account
    settings = AccountingSettings.objects.select_related("source_account").first()
    return settings.source_account if settings is not None else None


class Tab(StrEnum):
    EXPENSES = "expenses"
    TRANSFERS = "transfers"
    OTHERS = "others"
    VERIFIED = "verified"


# What each tab holds: the three work tabs show what still needs verifying, by kind.
TAB_Q: dict[Tab, Q] = {
    Tab.EXPENSES: Q(kind=Transaction.Kind.EXPENSE, verified_at__isnull=True),
    Tab.TRANSFERS: Q(kind=Transaction.Kind.TRANSFER, verified_at__isnull=True),
    Tab.OTHERS: Q(
        kind__in=[Transaction.Kind.CASH_IN, Transaction.Kind.CASH_OUT], verified_at__isnull=True
    ),
    Tab.VERIFIED: Q(verified_at__isnull=False),
}


def transaction_list() -> QuerySet[Transaction]:
    """Transactions with what a list row shows, in a fixed number of queries, newest first
    (the transaction_list_order index)."""
    # A correlated count, not a GROUP BY: it is evaluated for the page's rows only, after the
    # LIMIT, instead of grouping every transaction before the page is cut.
    receipts = Receipt.objects.filter(transaction=OuterRef("pk")).order_by().values("transaction")
    return (
        Transaction.objects.select_related("branch", "budget", "employee", "account")
        .annotate(
            receipt_count=Coalesce(
                Subquery(receipts.annotate(n=Count("pk")).values("n")),
                0,
                output_field=IntegerField(),
            )
        )
        .order_by("-date", "-id")
    )


def transaction_tab_counts(queryset: QuerySet[Transaction]) -> dict[str, int]:
    """Rows of `queryset` in each tab, each counted up to the pager's cap (core.paging), all
    in one query."""
    counts = capped_counts([queryset.filter(q) for q in TAB_Q.values()])
    return {tab.value: count for tab, count in zip(TAB_Q, counts, strict=True)}
