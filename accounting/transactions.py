"""Writes of garage transactions: entering one with its receipts, adding receipts later.

Numbers come from the gap-free yearly sequence (core.numbering) inside the transaction that
saves the row, as invoice numbers do. Receipt files are written to storage before the row
commits; if anything refuses or fails, the files written are deleted again.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from accounting import rules
from accounting.models import Budget, Receipt, StaffBranch, Transaction, TransactionEvent
from core import roles
from core.numbering import sequence_next
from garage.models import Branch, JobCard
from garage.validators import normalise_vat_number
from invoicing.services import QOYOD_REFERENCE

# Money in for these kinds, money out for the rest; a transfer may go either way.
_DIRECTION_OF_KIND: dict[str, str] = {
    Transaction.Kind.EXPENSE: Transaction.Direction.OUT,
    Transaction.Kind.CASH_OUT: Transaction.Direction.OUT,
    Transaction.Kind.CASH_IN: Transaction.Direction.IN,
}


@dataclass(frozen=True)
class ReceiptUpload:
    """A checked receipt file: its content type read from its bytes."""

    file: UploadedFile
    content_type: str


def transaction_number_format(*, year: int, sequence: int) -> str:
    """EXP-YEAR-000123: our reference, at the start of the journal entry's description."""
    number = f"{settings.TRANSACTION_NUMBER_PREFIX}-{year}-{sequence:06d}"
    if not QOYOD_REFERENCE.fullmatch(number):
        raise ValueError(f"TRANSACTION_NUMBER_PREFIX gives an invalid reference: {number}")
    return number


def direction_for(*, kind: str, direction: str | None) -> str:
    """The direction a kind implies; a transfer keeps the one chosen (money out by default)."""
    return _DIRECTION_OF_KIND.get(kind, direction or Transaction.Direction.OUT)


def entry_branches(*, user: User) -> list[Branch]:
    """The branches `user` may enter transactions for (the one home of that rule)."""
    if user.has_perm(roles.SEE_ACCOUNTING):
        return list(Branch.objects.filter(is_active=True))
    own = StaffBranch.objects.filter(user=user, branch__is_active=True).select_related("branch")
    return [staff.branch for staff in own]


def receipt_uploads(*, files: Sequence[UploadedFile]) -> list[ReceiptUpload]:
    """The files as receipts; ValidationError naming every file that cannot be one."""
    uploads, errors = [], []
    for upload in files:
        name = upload.name or ""
        try:
            content_type = rules.receipt_check(file=upload, size=upload.size or 0, name=name)
        except ValueError as exc:
            errors.append(str(exc))
        else:
            uploads.append(ReceiptUpload(file=upload, content_type=content_type))
    if errors:
        raise ValidationError({"receipts": errors})
    return uploads


def transaction_create(
    *,
    kind: str,
    direction: str | None,
    date: datetime.date,
    amount: Decimal,
    vat_amount: Decimal,
    payee: str,
    payee_vat_number: str,
    description: str,
    branch: Branch,
    budget: Budget | None,
    employee: User | None,
    job: JobCard | None,
    receipts: Sequence[UploadedFile],
    user: User,
) -> Transaction:
    """Enter a transaction with its receipts and an "entered" history row; all or nothing."""
    if branch.pk not in {b.pk for b in entry_branches(user=user)}:
        raise PermissionDenied
    refusals = rules.amount_refusals(amount=amount, vat_amount=vat_amount)
    if (refusal := rules.date_refusal(date=date)) is not None:
        refusals["date"] = refusal
    if payee_vat_number:
        try:
            payee_vat_number = normalise_vat_number(payee_vat_number)
        except ValidationError as exc:
            refusals["payee_vat_number"] = exc.messages[0]
    if job is not None and job.branch_id != branch.pk:
        refusals["job"] = _("The job card is at another branch.")
    if budget is not None and not budget.is_active:
        refusals["budget"] = _("This budget or category is no longer in use.")
    if refusals:
        raise ValidationError(refusals)
    uploads = receipt_uploads(files=receipts)
    stored: list[Receipt] = []
    try:
        with transaction.atomic():
            row = Transaction(
                kind=kind,
                direction=direction_for(kind=kind, direction=direction),
                date=date,
                amount=amount,
                vat_amount=vat_amount,
                payee=payee,
                payee_vat_number=payee_vat_number,
                description=description,
                branch=branch,
                budget=budget,
                employee=employee,
                job=job,
                created_by=user,
            )
            row.number = transaction_number_format(
                year=date.year, sequence=sequence_next(name="transaction", year=date.year)
            )
            row.save()
            for upload in uploads:
                receipt = Receipt(
                    transaction=row,
                    content_type=upload.content_type,
                    size=upload.file.size or 0,
                    original_name=(upload.file.name or "")[:200],
                    uploaded_by=user,
                )
                receipt.file.save("receipt", upload.file, save=False)
                stored.append(receipt)
                receipt.save()
            TransactionEvent.objects.create(
                transaction=row,
                kind=TransactionEvent.Kind.CREATED,
                user=user,
                details={
                    "number": row.number,
                    "amount": str(row.amount),
                    "vat_amount": str(row.vat_amount),
                    "receipts": len(stored),
                },
            )
    except BaseException:
        for receipt in stored:
            receipt.file.delete(save=False)
        raise
    return row
