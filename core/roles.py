"""The five roles of product.md as Django groups, and the permissions each one holds.

Kept as data so a migration and every later `migrate` (post_migrate) bring the groups in line;
views check permissions, never group names.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

ADVISOR = "Service Advisor"
TECHNICIAN = "Technician"
ACCOUNTANT = "Accountant"
FINANCE_MANAGER = "Finance Manager"
ADMIN = "Admin"
# The group names stay English (they are data, matched by name); people read these.
ROLE_LABELS = {
    ADVISOR: _("Service Advisor"),
    TECHNICIAN: _("Technician"),
    ACCOUNTANT: _("Accountant"),
    FINANCE_MANAGER: _("Finance Manager"),
    ADMIN: _("Admin"),
}

# The rules of the job and customer pages, each one permission: views, templates (as
# `perms.garage.<codename>`) and services ask for these, and ROLE_PERMISSIONS says who holds them.
SEE_ALL_JOBS = "garage.view_all_jobcards"
# Customer list and pages, and the phone, VAT number and address wherever a customer is shown.
SEE_CUSTOMER_DETAILS = "garage.view_customer"
# Start work and mark it done.
MOVE_JOB = "garage.complete_jobcard"
CANCEL_JOB = "garage.cancel_jobcard"
# A line price other than the catalogue's.
SET_LINE_PRICE = "garage.change_jobline_price"
# What a part cost us, and the margin on a job's parts: the books' business, not the floor's.
SEE_COSTS = "garage.view_sparepart_cost"

# The Accounting menu and the synced chart of accounts (the seed's step 6), and the Qoyod
# configuration there: syncing it, the source and input-VAT accounts (its step 1 and 5).
SEE_ACCOUNTING = "accounting.view_account"
MANAGE_ACCOUNTING = "accounting.manage_accounting"
# Entering an expense with its receipts: every role, technicians and advisors for their own
# branch only (accounting.transactions.entry_branches), without the Accounting menu.
ENTER_TRANSACTION = "accounting.add_transaction"
# Assigning accounts to transactions, bulk or one by one, and verifying them (the seed's step 7).
VERIFY_TRANSACTION = "accounting.verify_transaction"

# The catalogue with its stock: what a technician needs to pick a line.
_SEE_CATALOGUE = [
    "garage.view_serviceitem",
    "garage.view_sparepart",
    "garage.view_partstock",
]

_SEE_GARAGE = [
    *_SEE_CATALOGUE,
    SEE_CUSTOMER_DETAILS,
    "garage.view_vehicle",
]

_ACCOUNTING = [
    *_SEE_GARAGE,
    "garage.view_jobcard",
    SEE_ALL_JOBS,
    "invoicing.view_invoice",
    "invoicing.add_invoice",
    "invoicing.change_invoice",
    "invoicing.void_invoice",
    "payments.view_payment",
    SEE_COSTS,
    ENTER_TRANSACTION,
]

# Sending drafts to Qoyod and retrying them; the connection itself is the finance manager's.
_QOYOD_SEND = [
    "qoyod_sync.send_invoice",
    "qoyod_sync.view_qoyodinvoicesync",
    "qoyod_sync.view_qoyodattempt",
    "qoyod_sync.reconcile",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    ADVISOR: [
        *_SEE_GARAGE,
        "garage.add_customer",
        "garage.change_customer",
        "garage.add_vehicle",
        "garage.change_vehicle",
        "garage.view_jobcard",
        SEE_ALL_JOBS,
        "garage.add_jobcard",
        "garage.change_jobcard",
        MOVE_JOB,
        CANCEL_JOB,
        SET_LINE_PRICE,
        "invoicing.view_invoice",
        "invoicing.add_invoice",
        "invoicing.change_invoice",
        "invoicing.send_invoice_to_customer",
        "payments.view_payment",
        "payments.add_payment",
        ENTER_TRANSACTION,
    ],
    # Their own jobs (no SEE_ALL_JOBS), lines at catalogue prices, start and finish the work;
    # no customer or vehicle lists: the job page names the customer, without contact details.
    TECHNICIAN: [
        *_SEE_CATALOGUE,
        "garage.view_jobcard",
        "garage.change_jobcard",
        MOVE_JOB,
        ENTER_TRANSACTION,
    ],
    ACCOUNTANT: [*_ACCOUNTING, *_QOYOD_SEND, SEE_ACCOUNTING, VERIFY_TRANSACTION],
    FINANCE_MANAGER: [
        *_ACCOUNTING,
        *_QOYOD_SEND,
        SEE_ACCOUNTING,
        VERIFY_TRANSACTION,
        MANAGE_ACCOUNTING,
        "qoyod_sync.manage_connection",
        "garage.view_branch",
        "garage.change_branch",
    ],
}


def roles_sync(apps: Any, *, strict: bool) -> None:
    """Create the groups and set their permissions exactly; Admin gets every permission.

    `strict` raises on a permission that does not exist (a typo); migrations run non-strict
    because apps migrated later have not created their permissions yet.
    """
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    every = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in permission_model.objects.select_related("content_type")
    }
    for role, names in ROLE_PERMISSIONS.items():
        missing = [n for n in names if n not in every]
        if missing and strict:
            raise LookupError(f"Role {role} names unknown permissions: {missing}")
        group, _created = group_model.objects.get_or_create(name=role)
        group.permissions.set([every[n] for n in names if n in every])
    admin, _created = group_model.objects.get_or_create(name=ADMIN)
    admin.permissions.set(list(every.values()))


def roles_sync_all(apps: Any, *, strict: bool, using: str = "default") -> None:
    """Create every app's permissions first, then sync the groups.

    post_migrate and migrations both run before later apps have created their permissions.
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    for config in global_apps.get_app_configs():
        create_permissions(config, verbosity=0, using=using)
    roles_sync(apps, strict=strict)


def roles_sync_migration(apps: Any, schema_editor: Any) -> None:
    """RunPython step: permissions of apps not migrated yet are picked up by a later run."""
    roles_sync_all(apps, strict=False, using=schema_editor.connection.alias)
