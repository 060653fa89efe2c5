"""The chart of accounts mirrored from Qoyod, and the accounting settings that choose from it.

Warehouses and taxes are not mirrored here: they live in the Qoyod connection's catalogue
(qoyod_sync.models.QoyodConnection.catalogue), which the mapping form already reads, and the
configuration sync refreshes them there (accounting/configuration.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.messages import render
from garage.models import Branch


class AccountType(models.TextChoices):
    """Qoyod's account class (its `type`), the top of the chart."""

    ASSET = "Asset", _("Asset")
    LIABILITY = "Liability", _("Liability")
    EQUITY = "Equity", _("Equity")
    REVENUE = "Revenue", _("Revenue")
    EXPENSE = "Expense", _("Expense")


class AccountQuerySet(models.QuerySet["Account"]):
    def active(self) -> AccountQuerySet:
        return self.filter(status=Account.Status.ACTIVE)


class Account(models.Model):
    """A leaf account of the Qoyod chart, as the last configuration sync read it.

    Never deleted while anything refers to it (PROTECT): an account deactivated or removed in
    Qoyod is kept here with that status, so entries already made keep their account.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive in Qoyod")
        REMOVED = "removed", _("Removed from Qoyod")

    qoyod_id = models.PositiveIntegerField(_("Qoyod id"), unique=True)
    code = models.CharField(_("code"), max_length=30, db_index=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    # Not limited to AccountType: a value Qoyod adds later is kept as sent.
    account_type = models.CharField(_("type"), max_length=30, choices=AccountType)
    group_type = models.CharField(_("group"), max_length=100, blank=True)
    nature = models.CharField(_("nature"), max_length=10, blank=True)
    parent_type = models.CharField(_("parent"), max_length=30, blank=True)
    # GET /accounts lists leaf accounts only (qoyod-api.md §8.1); kept so a later read of
    # parents cannot be mistaken for postable accounts.
    is_leaf = models.BooleanField(_("leaf account"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.ACTIVE)
    last_seen_at = models.DateTimeField(_("last seen in Qoyod"))

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["code", "qoyod_id"]
        verbose_name = _("account")
        verbose_name_plural = _("chart of accounts")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        if (get_language() or "").startswith("ar") and self.name_ar:
            return self.name_ar
        return self.name_en or self.name_ar

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class AccountingSettings(models.Model):
    """The garage's one set of accounting choices, and what the last configuration sync did."""

    # A constant unique column makes a second row impossible.
    singleton = models.BooleanField(default=True, unique=True, editable=False)
    source_account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("source account"),
    )
    vat_account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("input VAT account"),
    )
    auto_sync = models.BooleanField(_("auto sync"), default=False)
    receipt_required = models.BooleanField(_("a receipt is required to verify"), default=True)
    # Beyond the seed: an expense from a supplier with a VAT number goes to Qoyod as a draft
    # expense bill (the accountant approves it there), not as a journal entry.
    draft_bills = models.BooleanField(
        _("send expenses with a supplier VAT number as draft expense bills"), default=False
    )
    # The Qoyod tax of those bills' lines (its id in the connection's catalogue).
    bill_tax_id = models.PositiveIntegerField(_("VAT tax of expense bills"), null=True, blank=True)
    last_sync_at = models.DateTimeField(_("last configuration sync"), null=True, editable=False)
    last_sync_ok = models.BooleanField(null=True, editable=False)
    last_sync_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        editable=False,
    )
    # {"accounts": {"new": 3, "updated": 1, "deactivated": 0, "total": 28}, "warehouses": ...}
    last_sync_counts = models.JSONField(default=dict, blank=True, editable=False)
    # The last successful sync: the choices above are only offered once one has happened.
    last_synced_ok_at = models.DateTimeField(null=True, editable=False)
    # What the last sync found, as a Message (core/messages.py), and Qoyod's words apart.
    last_sync_code = models.CharField(max_length=60, blank=True, editable=False)
    last_sync_params = models.JSONField(default=dict, blank=True, editable=False)
    last_sync_qoyod_message = models.TextField(_("Qoyod's message"), blank=True, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("accounting settings")
        verbose_name_plural = _("accounting settings")
        permissions = [
            (
                "manage_accounting",
                "Can sync the Qoyod configuration and choose the source and VAT accounts",
            )
        ]

    def __str__(self) -> str:
        return str(_("accounting settings"))

    @property
    def is_synced(self) -> bool:
        return self.last_synced_ok_at is not None

    @property
    def last_sync_message(self) -> str:
        return render(self.last_sync_code, self.last_sync_params)


class BranchSourceAccount(models.Model):
    """A branch's own source account (its petty cash), instead of the garage's."""

    branch = models.OneToOneField(
        Branch,
        on_delete=models.CASCADE,
        related_name="source_account_override",
        verbose_name=_("branch"),
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("source account")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("branch source account")
        verbose_name_plural = _("branch source accounts")

    def __str__(self) -> str:
        return f"{self.branch.code} → {self.account}"
