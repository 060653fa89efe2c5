"""The accounting app's models, one module per concern (chart.py: the Qoyod chart and settings)."""

from accounting.models.chart import (
    Account,
    AccountingSettings,
    AccountType,
    BranchSourceAccount,
)
from accounting.models.statements import StatementUpload
from accounting.models.transactions import (
    Budget,
    Receipt,
    StaffBranch,
    SupplierLink,
    Transaction,
    TransactionEvent,
)

__all__ = [
    "Account",
    "AccountType",
    "AccountingSettings",
    "BranchSourceAccount",
    "Budget",
    "Receipt",
    "StaffBranch",
    "StatementUpload",
    "SupplierLink",
    "Transaction",
    "TransactionEvent",
]
