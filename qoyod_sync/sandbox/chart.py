"""The sandbox's chart of accounts: a fresh KSA tenant's leaf accounts, and changing them.

DEFAULT_CHART is also the chart seed_demo mirrors when the demo's sandbox is not running, so
the demo's accounts and the sandbox's always agree. Ids and codes of the accounts every KSA
tenant starts with are those of qoyod-api.md §8.1; the rest (input VAT, petty cash, a company
card, workshop expenses) give expenses somewhere realistic to go. Two are inactive, as an old
tenant's chart has some: GET /accounts still lists them, with status "Inactive".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from qoyod_sync.sandbox.records import AccountRec, ApiError, now_stamp

ACTIVE = "Active"
INACTIVE = "Inactive"
if TYPE_CHECKING:
    from qoyod_sync.sandbox.company import Company

SERVER_ERROR = {"status": 500, "error": "Internal Server Error"}


class ChartAccount(NamedTuple):
    id: int
    code: str
    name_en: str
    name_ar: str
    type: str
    group_type: str
    nature: str
    status: str = ACTIVE


DEFAULT_CHART: tuple[ChartAccount, ...] = (
    ChartAccount(
        1, "120101", "Land", "الأراضي", "Asset", "Property, plant, and equipment", "Debit"
    ),
    ChartAccount(
        2, "120102", "Buildings", "المباني", "Asset", "Property, plant, and equipment", "Debit"
    ),
    ChartAccount(
        3, "120103", "Equipment", "المعدات", "Asset", "Property, plant, and equipment", "Debit"
    ),
    ChartAccount(7, "110101", "Cash on hand", "الصندوق", "Asset", "Cash", "Debit"),
    ChartAccount(
        8, "110201", "Current bank account", "حساب البنك الجاري", "Asset", "Bank", "Debit"
    ),
    ChartAccount(
        9, "1103", "Accounts receivable", "الذمم المدينة", "Asset", "Accounts receivable", "Debit"
    ),
    ChartAccount(10, "1106", "Inventory", "المخزون", "Asset", "Inventory", "Debit"),
    ChartAccount(
        11, "5204", "Rent expense", "مصروف الإيجار", "Expense", "Operating expenses", "Debit"
    ),
    ChartAccount(
        12,
        "5101",
        "Cost of goods sold",
        "تكلفة البضاعة المباعة",
        "Expense",
        "Cost of sales",
        "Debit",
    ),
    ChartAccount(
        13,
        "5201",
        "Salaries and wages",
        "الرواتب والأجور",
        "Expense",
        "Operating expenses",
        "Debit",
    ),
    ChartAccount(
        14, "2101", "Accounts payable", "الذمم الدائنة", "Liability", "Accounts payable", "Credit"
    ),
    ChartAccount(
        15, "3101", "Registered capital", "رأس المال المسجل", "Equity", "Capital", "Credit"
    ),
    ChartAccount(
        16, "3402", "Retained earnings", "الأرباح المبقاة", "Equity", "Retained earnings", "Credit"
    ),
    ChartAccount(
        17,
        "4101",
        "Sales and service revenue",
        "إيرادات المبيعات والخدمات",
        "Revenue",
        "Sales",
        "Credit",
    ),
    ChartAccount(18, "4201", "Other revenue", "إيرادات أخرى", "Revenue", "Other income", "Credit"),
    ChartAccount(
        19,
        "2105",
        "VAT payable (output VAT)",
        "ضريبة القيمة المضافة المستحقة",
        "Liability",
        "VAT",
        "Credit",
    ),
    ChartAccount(
        20,
        "1108",
        "VAT receivable (input VAT)",
        "ضريبة القيمة المضافة المدفوعة",
        "Asset",
        "VAT",
        "Debit",
    ),
    ChartAccount(21, "110102", "Petty cash", "العهدة النقدية", "Asset", "Petty cash", "Debit"),
    ChartAccount(
        22, "5205", "Workshop supplies", "مستلزمات الورشة", "Expense", "Operating expenses", "Debit"
    ),
    ChartAccount(
        23, "5206", "Bank charges", "رسوم بنكية", "Expense", "Operating expenses", "Debit"
    ),
    ChartAccount(
        24, "5207", "Fuel and transport", "وقود ومواصلات", "Expense", "Operating expenses", "Debit"
    ),
    ChartAccount(
        25,
        "5208",
        "Maintenance and repairs",
        "الصيانة والإصلاحات",
        "Expense",
        "Operating expenses",
        "Debit",
    ),
    ChartAccount(
        26,
        "5209",
        "Marketing and advertising",
        "التسويق والإعلان",
        "Expense",
        "Operating expenses",
        "Debit",
    ),
    ChartAccount(
        27, "5210", "Utilities", "الكهرباء والمياه", "Expense", "Operating expenses", "Debit"
    ),
    ChartAccount(
        28,
        "5211",
        "Telephone and internet",
        "الهاتف والإنترنت",
        "Expense",
        "Operating expenses",
        "Debit",
    ),
    ChartAccount(29, "110202", "Company card", "بطاقة الشركة", "Asset", "Bank", "Debit"),
    ChartAccount(
        30,
        "110103",
        "Old branch petty cash",
        "عهدة الفرع القديم",
        "Asset",
        "Petty cash",
        "Debit",
        INACTIVE,
    ),
    ChartAccount(
        31,
        "5299",
        "Hospitality (discontinued)",
        "الضيافة (موقوف)",
        "Expense",
        "Operating expenses",
        "Debit",
        INACTIVE,
    ),
)


def seed_accounts(stamp: str) -> dict[int, AccountRec]:
    """A new company's accounts, from DEFAULT_CHART."""
    return {
        row.id: AccountRec(
            row.id,
            row.code,
            row.name_en,
            row.name_ar,
            row.type,
            row.group_type,
            row.nature,
            created_at=stamp,
            status=row.status,
        )
        for row in DEFAULT_CHART
    }


def account_set_status(company: Company, account_id: int, status: str) -> AccountRec:
    """Activate or deactivate an account, as the accountant would in Qoyod."""
    with company.lock:
        account = company.accounts.get(account_id)
        if account is None:
            raise ApiError(
                404, {"message": "Invalid account ID. Please provide a valid account ID."}
            )
        account.status = status
        account.updated_at = now_stamp()
        return account


def account_add(
    company: Company, *, code: str, name_en: str, name_ar: str, type: str
) -> AccountRec:
    """Add a leaf account (tests grow the chart past a page with this)."""
    with company.lock:
        account_id = max(company.accounts) + 1
        nature = "Debit" if type in ("Asset", "Expense") else "Credit"
        stamp = now_stamp()
        account = AccountRec(
            account_id, code, name_en, name_ar, type, "Operating expenses", nature, created_at=stamp
        )
        company.accounts[account_id] = account
        return account


def account_remove(company: Company, account_id: int) -> None:
    """Drop an account from the chart (an unused account deleted in Qoyod's interface)."""
    with company.lock:
        company.accounts.pop(account_id, None)


def deep_pages_fail(company: Company, *, on: bool) -> None:
    """Make GET /accounts answer 500 past page 1, as a tenant with a large chart did (§9.4)."""
    with company.lock:
        company.deep_account_pages_fail = on


def refuse_deep_page(company: Company, page: int | None, paged: bool) -> None:
    if company.deep_account_pages_fail and paged and (page or 1) > 1:
        raise ApiError(500, SERVER_ERROR)
