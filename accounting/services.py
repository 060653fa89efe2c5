"""Writes of the accounting settings: the source and input-VAT accounts, branch overrides.

The configuration sync (a read of Qoyod) is accounting/configuration.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounting.configuration import accounting_settings_get
from accounting.models import Account, AccountingSettings, BranchSourceAccount
from audit.models import AuditEvent
from audit.services import audit_record


def settings_refusal(settings: AccountingSettings) -> str | None:
    """Why the accounts cannot be chosen yet, or None (the one home of this rule)."""
    if not settings.is_synced:
        return _(
            "Sync the configuration from Qoyod first: the accounts to choose from are read "
            "from Qoyod's chart of accounts."
        )
    return None


def accounting_settings_save(
    *,
    source_account: Account,
    vat_account: Account,
    auto_sync: bool,
    receipt_required: bool,
    branch_sources: Mapping[int, Account | None],
    user: User | None,
    draft_bills: bool = False,
    bill_tax_id: int | None = None,
) -> AccountingSettings:
    """Choose the source and input-VAT accounts, branch overrides and the policies."""
    with transaction.atomic():
        accounting_settings_get()
        settings = AccountingSettings.objects.select_for_update().get(singleton=True)
        refusal = settings_refusal(settings)
        if refusal is not None:
            raise ValidationError(refusal)
        chosen = {"source_account": source_account, "vat_account": vat_account}
        chosen |= {f"branch_{pk}": a for pk, a in branch_sources.items() if a is not None}
        # Read again under the lock: the account may have been deactivated by a sync since the
        # form was shown.
        active = set(
            Account.objects.active()
            .filter(pk__in=[a.pk for a in chosen.values()])
            .values_list("pk", flat=True)
        )
        inactive = {name: a for name, a in chosen.items() if a.pk not in active}
        if inactive:
            raise ValidationError(
                {
                    name: _("%(account)s is no longer active in Qoyod: choose another account.")
                    % {"account": account}
                    for name, account in inactive.items()
                }
            )
        before = _choices(settings)
        settings.source_account, settings.vat_account = source_account, vat_account
        settings.auto_sync, settings.receipt_required = auto_sync, receipt_required
        settings.draft_bills, settings.bill_tax_id = draft_bills, bill_tax_id
        settings.updated_by = user
        settings.save()
        for branch_id, account in branch_sources.items():
            if account is None:
                BranchSourceAccount.objects.filter(branch_id=branch_id).delete()
            else:
                BranchSourceAccount.objects.update_or_create(
                    branch_id=branch_id, defaults={"account": account}
                )
        audit_record(
            actor=user,
            action=AuditEvent.Action.ACCOUNTING_SETTINGS_SAVE,
            obj=settings,
            before=before,
            after=_choices(settings),
        )
    return settings


def _choices(settings: AccountingSettings) -> dict[str, Any]:
    """The settings as the audit trail records them (Qoyod account ids)."""
    overrides = BranchSourceAccount.objects.order_by("branch_id").values_list(
        "branch_id", "account__qoyod_id"
    )
    return {
        "source_account": settings.source_account.qoyod_id if settings.source_account else None,
        "vat_account": settings.vat_account.qoyod_id if settings.vat_account else None,
        "auto_sync": settings.auto_sync,
        "receipt_required": settings.receipt_required,
        "draft_bills": settings.draft_bills,
        "bill_tax_id": settings.bill_tax_id,
        "branch_sources": {str(branch): account for branch, account in overrides},
    }
