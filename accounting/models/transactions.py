"""Garage money movements (expenses, transfers, cash in and out), their receipts and history.

A transaction's Qoyod sync state sits on the row itself with the same column names as
qoyod_sync.models.QoyodInvoiceSync (state, lease_until, claim_token, failure_kind, reason_*,
qoyod_message, attempts, last_attempt_*), so the journal-entry send can be claimed, leased and
recorded by the invoice send machinery instead of a copy of it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounting.models.chart import Account
from core.fields import MoneyField
from core.messages import render
from garage.models import Branch, JobCard


class Budget(models.Model):
    """A budget or category transactions are filed under ("Workshop tools", "Marketing 2026")."""

    name_en = models.CharField(_("name (English)"), max_length=120, unique=True)
    name_ar = models.CharField(_("name (Arabic)"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("budget or category")
        verbose_name_plural = _("budgets and categories")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if (get_language() or "").startswith("ar") and self.name_ar:
            return self.name_ar
        return self.name_en


class StaffBranch(models.Model):
    """The branch a staff member without the Accounting menu enters expenses for."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="expense_branch"
    )
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, verbose_name=_("branch"))

    class Meta:
        verbose_name = _("staff branch")
        verbose_name_plural = _("staff branches")

    def __str__(self) -> str:
        return f"{self.user_id} → {self.branch_id}"


class Transaction(models.Model):
    class Kind(models.TextChoices):
        EXPENSE = "expense", _("Expense")
        TRANSFER = "transfer", _("Transfer or reimbursement")
        CASH_IN = "cash_in", _("Cash in")
        CASH_OUT = "cash_out", _("Cash out")

    class Direction(models.TextChoices):
        OUT = "out", _("Money out")
        IN = "in", _("Money in")

    class SyncState(models.TextChoices):
        NOT_SYNCED = "not_synced", _("Not synced")
        SENDING = "sending", _("Being sent")
        SYNCED = "synced", _("Synced")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("May already exist in Qoyod")

    class Document(models.TextChoices):
        JOURNAL_ENTRY = "journal_entry", _("Journal entry")
        SIMPLE_BILL = "simple_bill", _("Draft expense bill")

    number = models.CharField(_("number"), max_length=25, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.EXPENSE)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction)
    date = models.DateField(_("date"), db_index=True)
    amount = MoneyField(_("amount"))
    vat_amount = MoneyField(_("VAT amount"), default=0)
    payee = models.CharField(_("merchant or payee"), max_length=200, blank=True)
    payee_vat_number = models.CharField(_("VAT number"), max_length=15, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    # The bank's or card issuer's reference of a statement line (accounting/csv_import.py).
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, verbose_name=_("branch"))
    budget = models.ForeignKey(
        Budget,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("budget or category"),
    )
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("employee"),
    )
    job = models.ForeignKey(
        JobCard,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="costs",
        verbose_name=_("job card"),
    )
    # The debit account for money out, the credit account for money in (the seed's step 7).
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
    )
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    receipt_lost_reason = models.CharField(_("why the receipt is lost"), max_length=300, blank=True)
    receipt_lost_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The receipts link in the journal entry's description: revoked by replacing it.
    receipts_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    state = models.CharField(
        _("Qoyod sync"), max_length=10, choices=SyncState, default=SyncState.NOT_SYNCED
    )
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    qoyod_entry_id = models.PositiveIntegerField(_("Qoyod journal entry id"), null=True, blank=True)
    qoyod_entry_status = models.CharField(max_length=30, blank=True)
    # What qoyod_entry_id names, chosen when a send is claimed: a retry of an unknown outcome
    # looks for the same kind of document, whatever the setting says by then.
    qoyod_document = models.CharField(
        _("Qoyod document"), max_length=15, choices=Document, default=Document.JOURNAL_ENTRY
    )
    failure_kind = models.CharField(max_length=20, blank=True)
    reason_code = models.CharField(max_length=60, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    qoyod_message = models.TextField(_("Qoyod's message"), blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        permissions = [
            ("verify_transaction", "Can assign accounts to transactions and verify them"),
        ]
        indexes = [
            # A statement import's duplicate check: same reference, date and amount.
            models.Index(fields=["reference", "date", "amount"], name="transaction_statement_line"),
            # The transaction list's order and keyset pages (accounting.selectors).
            models.Index(fields=["-date", "-id"], name="transaction_list_order"),
            # The work tabs (selectors.TAB_Q): their capped counts and their pages, by kind,
            # without reading the verified rows that pile up under them.
            models.Index(
                fields=["kind", "-date", "-id"],
                condition=Q(verified_at__isnull=True),
                name="transaction_work_tabs",
            ),
            models.Index(
                fields=["-date", "-id"],
                condition=Q(verified_at__isnull=False),
                name="transaction_verified_tab",
            ),
            # The last journal entry's Qoyod status (accounting.sync.approval_in_use), read by
            # every page that sends or shows journal entries: one index row, not a scan.
            models.Index(
                fields=["-last_attempt_at", "-id"],
                condition=Q(state="synced", qoyod_document="journal_entry"),
                name="transaction_last_journal_entry",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_amount_positive"),
            models.CheckConstraint(
                condition=Q(vat_amount__gte=0) & Q(vat_amount__lte=models.F("amount")),
                name="transaction_vat_within_amount",
            ),
            models.CheckConstraint(
                condition=~Q(state="synced") | Q(qoyod_entry_id__isnull=False),
                name="transaction_synced_has_entry",
            ),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(lease_until__isnull=False),
                name="transaction_sending_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def can_unverify(self) -> bool:
        """Verified, and nothing of it is in Qoyod (accounting.verification.CHANGEABLE)."""
        return self.is_verified and self.state in CHANGEABLE_STATES

    @property
    def reason(self) -> str:
        return render(self.reason_code, self.reason_params)


# Nothing of a transaction in these states is in Qoyod: its account and verification may change.
CHANGEABLE_STATES = (Transaction.SyncState.NOT_SYNCED, Transaction.SyncState.FAILED)


class SupplierLink(models.Model):
    """The Qoyod vendor of a supplier VAT number, stored as soon as it is found or created."""

    vat_number = models.CharField(_("VAT number"), max_length=15, unique=True)
    qoyod_vendor_id = models.PositiveIntegerField(_("Qoyod vendor id"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("supplier link")
        verbose_name_plural = _("supplier links")

    def __str__(self) -> str:
        return f"{self.vat_number} → {self.qoyod_vendor_id}"


def _receipt_path(instance: Receipt, filename: str) -> str:
    # Our own name: the uploaded one may hold anything, and is kept apart as original_name.
    return f"receipts/{instance.transaction.date:%Y/%m}/{uuid.uuid4().hex}{instance.extension}"


class Receipt(models.Model):
    """A receipt photo or PDF, in Django's default storage (S3 through django-storages)."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="receipts")
    file = models.FileField(_("file"), upload_to=_receipt_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")

    def __str__(self) -> str:
        return self.original_name or self.file.name

    @property
    def extension(self) -> str:
        return {
            "image/jpeg": ".jpg",
            "image/png": ".png",
            "image/heic": ".heic",
            "application/pdf": ".pdf",
        }[self.content_type]


class TransactionEvent(models.Model):
    """One row per change of a transaction: who, when, what, with the values as data."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Entered")
        RECEIPT_ADDED = "receipt_added", _("Receipt added")
        ACCOUNT_ASSIGNED = "account_assigned", _("Account assigned")
        VERIFIED = "verified", _("Verified")
        UNVERIFIED = "unverified", _("Un-verified")
        SYNC = "sync", _("Qoyod sync")
        LINK_REVOKED = "link_revoked", _("Receipts link replaced")

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("transaction event")
        verbose_name_plural = _("transaction events")

    def __str__(self) -> str:
        return f"{self.transaction_id}: {self.kind}"
