"""QoyodWriter: creates, updates and deletes in one Qoyod company, each call sent exactly once.

Only the send path builds one; writer.reader is a QoyodReader over the same session for the
lookups a send needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from django.views.decorators.debug import sensitive_variables

from qoyod_sync.client.reader import QoyodReader
from qoyod_sync.client.transport import NOT_JSON, ClientOptions, Session, parse
from qoyod_sync.errors import QoyodMaybeSaved
from qoyod_sync.types import (
    Address,
    CreditNote,
    Customer,
    DraftCreditNote,
    DraftInvoice,
    InventoryAdjustment,
    Invoice,
    JournalEntry,
    NewInventoryAdjustment,
    NewJournalEntry,
    NewSimpleBill,
    Product,
    SimpleBill,
    Vendor,
)

T = TypeVar("T")


class QoyodWriter:
    """Creates, updates and deletes in one Qoyod company; every call is sent exactly once."""

    @sensitive_variables("api_key")
    def __init__(
        self, *, base_url: str, api_key: str, options: ClientOptions | None = None
    ) -> None:
        self._session = Session(base_url, api_key, options)
        self.reader = QoyodReader._over(self._session)

    def create_customer(
        self,
        *,
        name: str,
        phone_number: str = "",
        email: str = "",
        tax_number: str = "",
        organization: str = "",
        billing_address: Address | None = None,
    ) -> Customer:
        """Create an active customer (Qoyod does not prevent duplicates: look up first)."""
        contact: dict[str, Any] = {"name": name, "status": "Active"}
        contact.update(
            (key, value)
            for key, value in (
                ("phone_number", phone_number),
                ("email", email),
                ("tax_number", tax_number),
                ("organization", organization),
            )
            if value
        )
        if billing_address is not None:
            contact["billing_address"] = billing_address.to_json()
        return self._save("POST", "/customers", {"contact": contact}, "contact", Customer.from_json)

    def update_customer(
        self,
        customer_id: int,
        *,
        name: str | None = None,
        phone_number: str | None = None,
        email: str | None = None,
        tax_number: str | None = None,
        organization: str | None = None,
        billing_address: Address | None = None,
    ) -> Customer:
        """Change the given fields of a customer (None leaves a field as it is)."""
        fields = {
            "name": name,
            "phone_number": phone_number,
            "email": email,
            "tax_number": tax_number,
            "organization": organization,
        }
        contact: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        if billing_address is not None:
            contact["billing_address"] = billing_address.to_json()
        if not contact:
            raise ValueError("update_customer needs at least one field to change")
        path = f"/customers/{int(customer_id)}"
        return self._save("PUT", path, {"contact": contact}, "contact", Customer.from_json)

    def create_service_product(
        self,
        *,
        sku: str,
        name_ar: str,
        name_en: str,
        selling_price: Decimal,
        tax_id: int,
        unit_id: int,
        category_id: int,
        sales_account_id: int | None = None,
        buying_price: Decimal = Decimal("0"),
        description: str = "",
        special_tax_reason_id: int | None = None,
    ) -> Product:
        """Create an untracked service (labour) product."""
        product = _product_json(
            sku, name_ar, name_en, selling_price, tax_id, unit_id, category_id, description
        )
        # A strict tenant wants both prices as numbers even for a service (qoyod-api.md §4.1).
        product.update(
            type="Service", track_quantity=0, purchase_item=False, buying_price=str(buying_price)
        )
        if sales_account_id is not None:
            product["sales_account_id"] = sales_account_id
        if special_tax_reason_id is not None:
            # Required with a zero-rated or exempt tax (qoyod-api.md §4.5).
            product["special_tax_reason_id"] = special_tax_reason_id
        return self._save("POST", "/products", {"product": product}, "product", Product.from_json)

    def create_stock_product(
        self,
        *,
        sku: str,
        name_ar: str,
        name_en: str,
        selling_price: Decimal,
        buying_price: Decimal,
        tax_id: int,
        unit_id: int,
        category_id: int,
        sales_account_id: int | None = None,
        cogs_account_id: int | None = None,
        description: str = "",
        special_tax_reason_id: int | None = None,
    ) -> Product:
        """Create a stock-tracked product (a spare part); its stock starts at zero."""
        product = _product_json(
            sku, name_ar, name_en, selling_price, tax_id, unit_id, category_id, description
        )
        product.update(
            type="Product", track_quantity=1, purchase_item=True, buying_price=str(buying_price)
        )
        if sales_account_id is not None:
            product["sales_account_id"] = sales_account_id
        if special_tax_reason_id is not None:
            # Required with a zero-rated or exempt tax (qoyod-api.md §4.5).
            product["special_tax_reason_id"] = special_tax_reason_id
        if cogs_account_id is not None:
            # A live tenant refused tracked products without it (qoyod-api.md §4.1).
            product["cogs_account_id"] = cogs_account_id
        return self._save("POST", "/products", {"product": product}, "product", Product.from_json)

    def create_draft_invoice(self, draft: DraftInvoice) -> Invoice:
        """Create a Draft sales invoice whose reference is our invoice number."""
        return self._save("POST", "/invoices", draft.to_json(), "invoice", Invoice.from_json)

    def delete_draft_invoice(self, invoice_id: int) -> None:
        """Delete a Draft invoice (Qoyod refuses approved ones)."""
        self._session.write("DELETE", f"/invoices/{int(invoice_id)}")

    def create_draft_credit_note(self, note: DraftCreditNote) -> CreditNote:
        """Create a Draft credit note against an approved invoice, our number its reference."""
        return self._save("POST", "/credit_notes", note.to_json(), "note", CreditNote.from_json)

    def create_journal_entry(self, entry: NewJournalEntry) -> JournalEntry:
        """Create a journal entry; Qoyod rejects it unless debits equal credits."""
        return self._save(
            "POST", "/journal_entries", entry.to_json(), "journal_entry", JournalEntry.from_json
        )

    def create_vendor(self, *, name: str, tax_number: str) -> Vendor:
        """Create an active vendor (Qoyod does not prevent duplicates: look up first)."""
        contact = {"name": name, "tax_number": tax_number, "status": "Active"}
        return self._save("POST", "/vendors", {"contact": contact}, "contact", Vendor.from_json)

    def create_simple_bill(self, bill: NewSimpleBill) -> SimpleBill:
        """Create a draft expense bill from a vendor."""
        return self._save(
            "POST", "/simple_bills", bill.to_json(), "simple_bill", SimpleBill.from_json
        )

    def create_inventory_adjustment(
        self, adjustment: NewInventoryAdjustment
    ) -> InventoryAdjustment:
        """Set the stock of some products at one warehouse to the totals given."""
        return self._save(
            "POST", "/inventory_adjustments", adjustment.to_json(), "inventory_adjustment",
            InventoryAdjustment.from_json,
        )  # fmt: skip

    def _save(
        self, method: str, path: str, payload: Any, root: str, parser: Callable[[Any], T]
    ) -> T:
        reply = self._session.write(method, path, payload)
        what = f"{method} {path}"
        if reply.body is NOT_JSON:
            raise QoyodMaybeSaved(
                f"Qoyod answered HTTP {reply.status} to {what} with a body that is not JSON; "
                "it may already be saved in Qoyod.",
                status_code=reply.status,
            )
        record = reply.body.get(root) if isinstance(reply.body, Mapping) else None
        if not isinstance(record, Mapping) or record.get("id") in (None, ""):
            raise QoyodMaybeSaved(
                f"Qoyod answered HTTP {reply.status} to {what} without the record's id; "
                "it may already be saved in Qoyod.",
                status_code=reply.status,
            )
        return parse(parser, record, what, writing=True)


def _product_json(
    sku: str,
    name_ar: str,
    name_en: str,
    selling_price: Decimal,
    tax_id: int,
    unit_id: int,
    category_id: int,
    description: str,
) -> dict[str, Any]:
    return {
        "sku": sku,
        "name_ar": name_ar,
        "name_en": name_en,
        "description": description,
        "selling_price": str(selling_price),
        "tax_id": tax_id,
        "product_unit_type_id": unit_id,
        "category_id": category_id,
        "sale_item": True,
    }
