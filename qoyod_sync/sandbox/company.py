"""One API key's company: seeded configuration, customers, products and stock.

Callers hold `Company.lock` (the sandbox-wide lock) around anything that reads or changes a
company; the public operations used from tests and the accountant page take it themselves.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from qoyod_sync.sandbox.bills import SimpleBillRec, VendorRec
from qoyod_sync.sandbox.chart import seed_accounts
from qoyod_sync.sandbox.records import (
    ApiError,
    CategoryRec,
    CustomerRec,
    InvoiceRec,
    JournalEntryRec,
    NoteRec,
    ProductRec,
    ReceiptRec,
    SpecialTaxReasonRec,
    TaxRec,
    UnitRec,
    WarehouseRec,
    invalid,
    money,
    now_stamp,
    parse_amount,
    parse_id,
)

if TYPE_CHECKING:
    from qoyod_sync.sandbox.inventory import AdjustmentRec

PRODUCT_TYPES = ("Product", "Service", "Expense", "RawMaterial", "Recipe")
_VAT_NUMBER = re.compile(r"^3\d{13}3$")

# The first id of each record kind differs, so a test that mixes up ids fails loudly.
_FIRST_IDS = {
    "customer": 101,
    "product": 201,
    "receipt": 501,
    "allocation": 901,
    "invoice": 1001,
    "credit_note": 3001,
    "journal_entry": 7001,
    "simple_bill": 9001,
    "simple_bill_line": 9501,
    "simple_bill_reference": 1,
    "inventory_adjustment": 8001,
    "adjustment_line": 8501,
    "invoice_reference": 1,
    "payment_reference": 1,
    "credit_note_reference": 1,
}


class Company:
    """The books behind one API key."""

    def __init__(
        self,
        *,
        number: int,
        key_hint: str,
        lock: threading.RLock,
        opening_stock: Decimal = Decimal("0"),
    ) -> None:
        self.number = number
        # Real Qoyod starts a new tracked product at zero; the demo may start it stocked so that
        # a first send is not stopped by a shortfall nobody in the demo can fix in Qoyod.
        self.opening_stock = opening_stock
        self.key_hint = key_hint
        self.name = f"Sandbox Company {number}"
        self.vat_number = "300000000000003"
        self.lock = lock
        self._next = dict(_FIRST_IDS)
        stamp = now_stamp()
        self.warehouses = {
            1: WarehouseRec(1, "Main Workshop", "الورشة الرئيسية", "Riyadh", 10, True, stamp),
            2: WarehouseRec(2, "Jeddah Branch", "فرع جدة", "Jeddah", 10, False, stamp),
        }
        self.taxes = {
            1: TaxRec(1, "VAT 15%", "ضريبة القيمة المضافة 15%", Decimal("15"), "S"),
            2: TaxRec(2, "Zero-rated", "خاضع للصفر", Decimal("0"), "Z"),
            3: TaxRec(3, "VAT exempt", "معفى", Decimal("0"), "E"),
        }
        self.special_tax_reasons = seed_special_tax_reasons()
        self.accounts = seed_accounts(stamp)
        # Settings of the company in Qoyod's interface and quirks of its tenant (chart.py,
        # journal.py): approval of manual journal entries, off as in a new Qoyod company.
        self.manual_entry_approval = False
        self.deep_account_pages_fail = False
        # A strict tenant, as real ones can be and the sandbox is never kinder: products need
        # numeric prices, a sales account and, when tracked, a cost of goods sold account
        # (qoyod-api.md §4.1, §10.5); under ZATCA Phase 2 names have 3 characters or more and
        # approval needs payment_method and supply_date (qoyod-openapi-v2.1.yaml).
        self.strict_products = True
        self.zatca_phase2 = True
        self.units = {
            1: UnitRec(1, "Piece", "pc", 1, stamp),
            2: UnitRec(2, "Hour", "hr", 3, stamp),
        }
        self.categories = {
            1: CategoryRec(1, "Services", "Labour and workshop services", stamp),
            2: CategoryRec(2, "Spare parts", "Parts and consumables", stamp),
        }
        self.customers: dict[int, CustomerRec] = {}
        self.products: dict[int, ProductRec] = {}
        self.stock: dict[tuple[int, int], Decimal] = {}
        self.invoices: dict[int, InvoiceRec] = {}
        self.credit_notes: dict[int, NoteRec] = {}
        self.receipts: dict[int, ReceiptRec] = {}
        self.journal_entries: dict[int, JournalEntryRec] = {}
        self.vendors: dict[int, VendorRec] = {}
        self.simple_bills: dict[int, SimpleBillRec] = {}
        # Kept only so a test can see what was posted: Qoyod offers no way to read them back.
        self.adjustments: dict[int, AdjustmentRec] = {}

    def __repr__(self) -> str:
        return f"<Company {self.number} key {self.key_hint}>"

    def next_id(self, kind: str) -> int:
        # A state file written before a kind existed has no counter for it yet.
        value = self._next.get(kind, _FIRST_IDS[kind])
        self._next[kind] = value + 1
        return value

    @property
    def default_warehouse(self) -> WarehouseRec:
        return next(w for w in self.warehouses.values() if w.is_default)

    # ---- customers ------------------------------------------------------------------------

    def create_customer(self, data: Any) -> CustomerRec:
        if not isinstance(data, Mapping):
            raise ApiError(422, {"errors": ["contact must be an object or an array of objects"]})
        customer = CustomerRec(id=0, name="")
        self._apply_contact(customer, data, creating=True)
        customer.id = self.next_id("customer")
        self.customers[customer.id] = customer
        return customer

    def update_customer(self, customer_id: int, data: Any) -> CustomerRec:
        customer = self.customers.get(customer_id)
        if customer is None:
            raise ApiError(404, "Customer Not Found")
        if not isinstance(data, Mapping):
            raise ApiError(422, {"errors": ["contact must be an object"]})
        self._apply_contact(customer, data, creating=False)
        customer.updated_at = now_stamp()
        return customer

    def set_customer_status(self, customer_id: int, status: str) -> CustomerRec:
        """Activate or deactivate a customer, as an accountant would in Qoyod."""
        with self.lock:
            return self.update_customer(customer_id, {"status": status})

    def _apply_contact(
        self, customer: CustomerRec, data: Mapping[str, Any], *, creating: bool
    ) -> None:
        errors: dict[str, list[str]] = {}
        # contact_name is the column; [QA]'s oldest test sent it instead of name (§3.1).
        name = data.get("name", data.get("contact_name"))
        if (creating or name is not None) and not str(name or "").strip():
            errors["contact_name"] = ["can't be blank"]
        status = data.get("status")
        if status is not None and status not in ("Active", "Inactive"):
            errors["status"] = ["is not included in the list"]
        tax_number = data.get("tax_number")
        if tax_number and not _VAT_NUMBER.match(str(tax_number)):
            # Enforced always here; when real Qoyod enforces it is unknown (§15.35).
            errors["tax_number"] = ["must be 15 digits, starting and ending with 3"]
        address = data.get("billing_address")
        if address is not None and not isinstance(address, Mapping):
            errors["billing_address"] = ["must be an object"]
        if errors:
            raise invalid(errors)
        if name is not None:
            customer.name = str(name).strip()
        for key in (
            "organization",
            "email",
            "phone_number",
            "secondary_phone_number",
            "tax_number",
        ):
            if data.get(key) is not None:
                setattr(customer, key, str(data[key]))
        if status is not None:
            customer.status = status
        if isinstance(address, Mapping):
            keys = ("billing_address", "billing_city", "billing_state", "billing_zip")
            customer.billing_address = {
                key: str(address.get(key) or "")
                for key in (*keys, "billing_country", "building_number")
            }

    # ---- products -------------------------------------------------------------------------

    def create_product(self, data: Any) -> ProductRec:
        if not isinstance(data, Mapping):
            raise ApiError(422, {"errors": ["product must be an object or an array of objects"]})
        errors: dict[str, list[str]] = {}
        name = str(data.get("name", data.get("name_ar")) or "").strip()
        en_name = str(data.get("en_name", data.get("name_en")) or "").strip()
        sku = str(data.get("sku") or "").strip()
        if not name:
            errors["name"] = ["Please Enter The Product Name."]
        for key, value in (("name", name), ("en_name", en_name)):
            if len(value) > 250:
                errors.setdefault(key, []).append("is too long (maximum is 250 characters)")
        if not sku:
            errors["sku"] = ["can't be blank"]
        else:
            taken = next((p for p in self.products.values() if p.sku == sku), None)
            if taken is not None:
                errors["sku"] = [f"Reference is already taken by id {taken.id}"]
        tax_id = parse_id(data.get("tax_id"))
        if tax_id is None:
            errors["tax_id"] = ["Please select taxes"]
        elif tax_id not in self.taxes:
            errors["tax_id"] = ["is invalid"]
        product_type = data.get("type") or "Product"
        if product_type not in PRODUCT_TYPES:
            errors["type"] = ["is not included in the list"]
        prices = {}
        for key in ("selling_price", "buying_price"):
            raw = data.get(key)
            prices[key] = parse_amount(raw)
            if raw not in (None, "") and prices[key] is None:
                errors[key] = ["must be a number"]
        unit_id = parse_id(data.get("product_unit_type_id")) or 1
        if unit_id not in self.units:
            errors["product_unit_type"] = ["must exist"]
        category_id = parse_id(data.get("category_id"))
        if data.get("category_id") is not None and category_id not in self.categories:
            errors["category"] = ["must exist"]
        accounts = {}
        for key, aliases in (
            ("sales_account_id", ("sales_account_id",)),
            ("expense_account_id", ("expense_account_id", "cogs_account_id")),
        ):
            raw = next((data[a] for a in aliases if data.get(a) is not None), None)
            accounts[key] = parse_id(raw)
            if raw is not None and accounts[key] not in self.accounts:
                errors[key.removesuffix("_id")] = ["must exist"]
        tracked = str(data.get("track_quantity", 0)).lower() in ("1", "true")
        reason_id = parse_id(data.get("special_tax_reason_id"))
        if tax_id in self.taxes:
            problem = self.reason_problem(self.taxes[tax_id], reason_id)
            if problem:
                errors["special_tax_reason_id"] = [problem]
        for key, messages in self._strict_product_errors(
            name, en_name, prices, accounts, tracked
        ).items():
            errors.setdefault(key, []).extend(messages)
        if errors:
            raise invalid(errors)
        product = ProductRec(
            id=self.next_id("product"),
            sku=sku,
            name_ar=name,
            name_en=en_name,
            type=product_type,
            # A service never tracks stock.
            track_quantity=int(tracked and product_type != "Service"),
            tax_id=tax_id or 1,
            unit_id=unit_id,
            category_id=category_id,
            selling_price=prices["selling_price"],
            buying_price=prices["buying_price"],
            description=str(data.get("description") or ""),
            barcode=str(data.get("barcode") or ""),
            sales_account_id=accounts["sales_account_id"],
            expense_account_id=accounts["expense_account_id"],
            special_tax_reason_id=reason_id,
        )
        self.products[product.id] = product
        if product.track_quantity and self.opening_stock:
            for warehouse_id in self.warehouses:
                self.stock[(product.id, warehouse_id)] = self.opening_stock
        return product

    def reason_problem(self, tax: TaxRec, reason_id: int | None) -> str:
        """Why a product (or a line) at `tax` cannot have `reason_id`, or "".

        A KSA tax that is not standard (Z, E, O) needs a special tax reason whose category is
        the tax's code (qoyod-openapi-v2.1.yaml /special_tax_reasons); real Qoyod refuses the
        rest, so the sandbox does too.
        """
        if tax.code == "S":
            return ""
        if reason_id is None:
            return "can't be blank for a zero-rated or exempt tax"
        reason = self.special_tax_reasons.get(reason_id)
        if reason is None:
            return "must exist"
        if reason.category != tax.code:
            return f"is a reason for tax code {reason.category}, not {tax.code}"
        return ""

    def _strict_product_errors(
        self,
        name: str,
        en_name: str,
        prices: Mapping[str, Decimal | None],
        accounts: Mapping[str, int | None],
        tracked: bool,
    ) -> dict[str, list[str]]:
        """What a strict or ZATCA Phase-2 tenant adds to the product validation."""
        errors: dict[str, list[str]] = {}
        if self.strict_products:
            for key in ("selling_price", "buying_price"):
                if prices[key] is None:
                    errors[key] = ["must be a number"]
            if accounts["sales_account_id"] is None:
                errors["sales_account_id"] = ["Can't be blank"]
            if tracked and accounts["expense_account_id"] is None:
                # Live wording, under the name the tenant used (qoyod-api.md §10.5).
                errors["cogs_account_id"] = ["Can't be blank"]
        if self.zatca_phase2:
            for key, value in (("name", name), ("en_name", en_name)):
                if value and len(value) < 3:
                    errors.setdefault(key, []).append("is too short (minimum is 3 characters)")
        return errors

    def update_product(self, product_id: int, data: Any) -> ProductRec:
        product = self.products.get(product_id)
        if product is None:
            raise ApiError(404, "Product not found")
        if not isinstance(data, Mapping):
            raise ApiError(422, {"errors": ["product must be an object"]})
        sku = data.get("sku")
        if sku is not None:
            taken = next(
                (p for p in self.products.values() if p.sku == sku and p.id != product_id), None
            )
            if taken is not None or not str(sku).strip():
                message = (
                    f"Reference is already taken by id {taken.id}" if taken else "can't be blank"
                )
                raise invalid({"sku": [message]})
            product.sku = str(sku).strip()
        # `type` is ignored on update (qoyod-api.md §4.1).
        for source, target in (
            ("name", "name_ar"),
            ("name_ar", "name_ar"),
            ("en_name", "name_en"),
            ("name_en", "name_en"),
            ("description", "description"),
            ("barcode", "barcode"),
        ):
            if data.get(source) is not None:
                setattr(product, target, str(data[source]))
        product.updated_at = now_stamp()
        return product

    def stock_of(self, product_id: int, inventory_id: int) -> Decimal:
        return self.stock.get((product_id, inventory_id), Decimal("0"))

    def set_stock(self, product_id: int, inventory_id: int, quantity: Decimal) -> ProductRec:
        """Set the quantity on hand, as an inventory adjustment in Qoyod would."""
        with self.lock:
            product = self.products.get(product_id)
            if product is None:
                raise ApiError(404, "Product not found")
            if not product.track_quantity:
                raise invalid({"product": ["does not track quantity"]})
            if inventory_id not in self.warehouses:
                raise ApiError(404, {"error": "Inventory not found"})
            if quantity < 0:
                raise invalid({"actual_quantity": ["must be greater than or equal to 0"]})
            self.stock[(product_id, inventory_id)] = quantity
            product.updated_at = now_stamp()
            return product

    def product_json(self, product: ProductRec) -> dict[str, Any]:
        unit = self.units[product.unit_id]
        inventories = []
        if product.track_quantity:
            inventories = [
                {
                    "id": w.id,
                    "name_en": w.name,
                    "name_ar": w.ar_name,
                    "stock": money(self.stock_of(product.id, w.id)),
                }
                for w in self.warehouses.values()
            ]
        return {
            "id": product.id,
            "name_ar": product.name_ar,
            "name_en": product.name_en,
            "description": product.description,
            "category_id": product.category_id,
            "type": product.type,
            "unit_type": unit.id,
            "unit": unit.unit_name,
            # Decimal strings as real output has them; the spec says number (§15.3).
            "buying_price": money(product.buying_price or Decimal("0")),
            "selling_price": money(product.selling_price or Decimal("0")),
            "is_buying_price_inclusive": False,
            "is_selling_price_inclusive": False,
            "sku": product.sku,
            "barcode": product.barcode or None,
            "is_sold": product.selling_price is not None,
            "is_bought": product.buying_price is not None,
            "track_quantity": product.track_quantity,
            "tax_id": product.tax_id,
            "inventories": inventories,
            "ingredients": [],
            "unit_conversions": [],
            "pos_product": product.selling_price is not None,
            "special_tax_reason_id": product.special_tax_reason_id,
            "terms_and_conditions": None,
            "sales_account_id": product.sales_account_id,
            "expense_account_id": product.expense_account_id,
            "created_at": product.created_at,
            "updated_at": product.updated_at,
        }


# KSA's seeded reasons as Qoyod lists them: 11 zero-rated (ids 1-11) and 3 exempt (12-14)
# (qoyod-api.md §4.5). The newer VATEX-SA-MLTRY is not among them, as on a tenant seeded before
# ZATCA added it.
_KSA_REASONS = (
    ("VATEX-SA-32", "export_of_goods", "Z", "Export of goods"),
    ("VATEX-SA-33", "export_of_services", "Z", "Export of services"),
    ("VATEX-SA-34-1", "international_transport_of_goods", "Z", "The international transport of Goods"),  # noqa: E501
    ("VATEX-SA-34-2", "international_transport_of_passengers", "Z", "International transport of passengers"),  # noqa: E501
    ("VATEX-SA-34-3", "services_incidental_to_passenger_transport", "Z", "Services directly connected and incidental to a Supply of international passenger transport"),  # noqa: E501
    ("VATEX-SA-34-4", "qualifying_means_of_transport", "Z", "Supply of a qualifying means of transport"),  # noqa: E501
    ("VATEX-SA-34-5", "services_relating_to_transport", "Z", "Any services relating to Goods or passenger transportation"),  # noqa: E501
    ("VATEX-SA-35", "medicines_and_medical_equipment", "Z", "Medicines and medical equipment"),
    ("VATEX-SA-36", "qualifying_metals", "Z", "Qualifying metals"),
    ("VATEX-SA-EDU", "private_education_to_citizen", "Z", "Private education to citizen"),
    ("VATEX-SA-HEA", "private_healthcare_to_citizen", "Z", "Private healthcare to citizen"),
    ("VATEX-SA-29", "financial_services", "E", "Financial services mentioned in Article 29 of the VAT Regulations"),  # noqa: E501
    ("VATEX-SA-29-7", "life_insurance", "E", "Life insurance services mentioned in Article 29 of the VAT Regulations"),  # noqa: E501
    ("VATEX-SA-30", "real_estate_transactions", "E", "Real estate transactions mentioned in Article 30 of the VAT Regulations"),  # noqa: E501
)  # fmt: skip


def seed_special_tax_reasons() -> dict[int, SpecialTaxReasonRec]:
    return {
        number: SpecialTaxReasonRec(number, code, key, category, text)
        for number, (code, key, category, text) in enumerate(_KSA_REASONS, start=1)
    }
