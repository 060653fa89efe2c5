"""The seed's step 7: assign an account to transactions, verify them, un-verify until synced.

Bulk assign is one UPDATE over the rows it changes (plus one INSERT of their history rows),
whatever their number: the rows are read under a lock first so the history names each one.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting.configuration import accounting_settings_get
from accounting.models import Account, Receipt, Transaction, TransactionEvent
from accounting.models.transactions import CHANGEABLE_STATES

CHANGEABLE = Q(state__in=CHANGEABLE_STATES)
# Bulk assign changes what still waits for verification; a verified row is un-verified first.
ASSIGNABLE = CHANGEABLE & Q(verified_at__isnull=True)


def _active_account(account: Account) -> Account:
    if not Account.objects.active().filter(pk=account.pk).exists():
        raise ValidationError(
            {"account": _("%(account)s is not active in Qoyod: choose another account.")
             % {"account": account}}
        )  # fmt: skip
    return account


def bulk_assign_rows(*, queryset: QuerySet[Transaction], account: Account) -> QuerySet[Transaction]:
    """The rows of `queryset` a bulk assign of `account` would change."""
    return (
        Transaction.objects.filter(pk__in=queryset.values("pk"))
        .filter(ASSIGNABLE)
        .exclude(account=account)
    )


def transaction_bulk_assign(
    *, queryset: QuerySet[Transaction], account: Account, user: User
) -> int:
    """Assign `account` to every changeable row of `queryset`; returns how many changed."""
    with transaction.atomic():
        _active_account(account)
        rows = bulk_assign_rows(queryset=queryset, account=account)
        before = list(rows.select_for_update(of=("self",)).values_list("pk", "account__qoyod_id"))
        if not before:
            return 0
        # The same condition again rather than 10,000 ids in the statement: the rows read are
        # locked, so only a row added since could differ, and then nothing is kept.
        if rows.update(account=account, updated_at=timezone.now()) != len(before):
            raise ValidationError(
                _("Transactions changed while they were being assigned: try again.")
            )
        TransactionEvent.objects.bulk_create(
            TransactionEvent(
                transaction_id=pk,
                kind=TransactionEvent.Kind.ACCOUNT_ASSIGNED,
                user=user,
                details={"before": old, "after": account.qoyod_id, "bulk": True},
            )
            for pk, old in before
        )
    return len(before)


def receipt_missing(*, has_receipt: bool, receipt_lost_reason: str, required: bool) -> bool:
    """The receipt policy (the one home of it): a receipt, or a reason it is lost, if required."""
    return required and not has_receipt and not receipt_lost_reason.strip()


def verify_refusal(*, row: Transaction, has_receipt: bool, receipt_lost_reason: str) -> str | None:
    """Why `row` cannot be verified, or None (the one home of this rule)."""
    if row.is_verified:
        return _("%(number)s is already verified.") % {"number": row.number}
    if row.state not in CHANGEABLE_STATES:
        return _("%(number)s is being sent or already in Qoyod.") % {"number": row.number}
    if row.account is None:
        return _("Assign an account to %(number)s before verifying it.") % {"number": row.number}
    if not row.account.is_active:
        return _("%(account)s is not active in Qoyod: assign another account.") % {
            "account": row.account
        }
    if receipt_missing(
        has_receipt=has_receipt,
        receipt_lost_reason=receipt_lost_reason,
        required=accounting_settings_get().receipt_required,
    ):
        return _(
            "%(number)s has no receipt: add one, or say why it is lost to verify without it."
        ) % {"number": row.number}
    return None


def transaction_verify(*, row: Transaction, receipt_lost_reason: str, user: User) -> None:
    """Verify `row`, recording a "receipt lost" override with who and why when one is given."""
    reason = receipt_lost_reason.strip()
    with transaction.atomic():
        locked = (
            Transaction.objects.select_for_update(of=("self",))
            .select_related("account")
            .annotate(has_receipt=Exists(Receipt.objects.filter(transaction=OuterRef("pk"))))
            .get(pk=row.pk)
        )
        refusal = verify_refusal(
            row=locked, has_receipt=locked.has_receipt, receipt_lost_reason=reason
        )
        if refusal is not None:
            raise ValidationError(refusal)
        now = timezone.now()
        lost = {"receipt_lost_reason": reason, "receipt_lost_by": user} if reason else {}
        Transaction.objects.filter(pk=row.pk).update(
            verified_at=now, verified_by=user, updated_at=now, **lost
        )
        TransactionEvent.objects.create(
            transaction=locked,
            kind=TransactionEvent.Kind.VERIFIED,
            user=user,
            details={"account": locked.account.qoyod_id if locked.account else None}
            | ({"receipt_lost": reason} if reason else {}),
        )


def transaction_unverify(*, row: Transaction, user: User) -> None:
    """Take `row` back to its tab; refused once it is being sent or synced."""
    with transaction.atomic():
        changed = (
            Transaction.objects.filter(pk=row.pk, verified_at__isnull=False)
            .filter(CHANGEABLE)
            .update(verified_at=None, verified_by=None, updated_at=timezone.now())
        )
        if not changed:
            raise ValidationError(
                _("%(number)s can no longer be un-verified: it is not verified, or it is being "
                  "sent or already in Qoyod.") % {"number": row.number}
            )  # fmt: skip
        TransactionEvent.objects.create(
            transaction=row, kind=TransactionEvent.Kind.UNVERIFIED, user=user
        )
