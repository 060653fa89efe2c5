"""The /2.0/ API: routes, envelopes, lists and status codes (qoyod-api.md §1.5, §2, §9)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from qoyod_sync.sandbox import bills, chart, documents, inventory, journal, notes, printing
from qoyod_sync.sandbox.company import Company
from qoyod_sync.sandbox.ransack import Attributes, Query, apply, paginate, parse_query
from qoyod_sync.sandbox.records import ApiError, parse_id

Reply = tuple[int, Any]

# How a list pages (qoyod-api.md §9.1).
PAGED = "paged"  # page/per_page, default 100, no pagination object
PAGED_META = "paged+meta"  # the same with a `pagination` object
OPTIONAL = "optional"  # pages only when both page and per_page are sent (/accounts)
ALL = "all"  # ignores paging, returns every row


@dataclass(frozen=True)
class Listing:
    root: str
    rows: Callable[[Company], Iterable[Any]]
    to_json: Callable[[Company, Any], dict[str, Any]]
    attributes: Attributes
    paging: str
    # The bare-string 404 body when nothing matches; None means 200 with an empty list.
    empty: str | None
    max_per_page: int = 1000
    # /products prints perPage and currentPage as strings (§15.15).
    string_meta: bool = False


def _own(_company: Company, record: Any) -> dict[str, Any]:
    return record.to_json()


LISTINGS: dict[str, Listing] = {
    "customers": Listing(
        root="customers",
        rows=lambda c: c.customers.values(),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            # contact_name is the documented column; name is what other clients send (§15.17).
            "contact_name": lambda r: r.name,
            "name": lambda r: r.name,
            "primary_email": lambda r: r.email,
            "primary_contact_number": lambda r: r.phone_number,
            "tax_number": lambda r: r.tax_number,
            "status": lambda r: r.status,
            "created_at": lambda r: r.created_at,
            "updated_at": lambda r: r.updated_at,
        },
        paging=PAGED,
        empty="We could not retrieve your customers, we found nothing.",
    ),
    "products": Listing(
        root="products",
        rows=lambda c: c.products.values(),
        to_json=lambda c, r: c.product_json(r),
        attributes={
            "id": lambda r: r.id,
            "sku": lambda r: r.sku,
            "name": lambda r: r.name_ar,
            "en_name": lambda r: r.name_en,
            "category_id": lambda r: r.category_id,
            "type": lambda r: r.type,
            "buying_price": lambda r: r.buying_price,
            "selling_price": lambda r: r.selling_price,
            "updated_at": lambda r: r.updated_at,
        },
        paging=PAGED_META,
        empty="We found nothing",
        string_meta=True,
    ),
    "invoices": Listing(
        root="invoices",
        rows=lambda c: c.invoices.values(),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            "reference": lambda r: r.reference,
            "status": lambda r: r.status,
            "contact_id": lambda r: r.contact_id,
            "issue_date": lambda r: r.issue_date,
            "due_date": lambda r: r.due_date,
            "created_at": lambda r: r.created_at,
            "updated_at": lambda r: r.updated_at,
        },
        paging=PAGED,
        empty="We could not retrieve your Invoices, we found nothing.",
    ),
    "credit_notes": Listing(
        root="credit_notes",
        rows=lambda c: c.credit_notes.values(),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            "reference": lambda r: r.reference,
            "status": lambda r: r.status,
            "contact_id": lambda r: r.contact_id,
            "parent_id": lambda r: r.parent_id,
            "issue_date": lambda r: r.issue_date,
            "created_at": lambda r: r.created_at,
            "updated_at": lambda r: r.updated_at,
        },
        paging=PAGED,
        empty="We found nothing",
    ),
    "invoice_payments": Listing(
        root="receipts",
        rows=lambda c: (r for r in c.receipts.values() if r.kind == "received"),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            "contact_id": lambda r: r.contact_id,
            "reference": lambda r: r.reference,
            "date": lambda r: r.date,
        },
        # §15.13: paged with a pagination object, at most 100 a page.
        paging=PAGED_META,
        empty=None,
        max_per_page=100,
    ),
    "receipts": Listing(
        root="receipts",
        rows=lambda c: c.receipts.values(),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            "contact_id": lambda r: r.contact_id,
            "kind": lambda r: r.kind,
            "reference": lambda r: r.reference,
            "date": lambda r: r.date,
        },
        paging=PAGED_META,
        empty=None,
        max_per_page=100,
    ),
    "journal_entries": Listing(
        root="journal_entries",
        rows=lambda c: c.journal_entries.values(),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            # Both spellings of §15.18 work here.
            "journal_entry_date": lambda r: r.date,
            "date": lambda r: r.date,
            "description": lambda r: r.description,
        },
        paging=ALL,
        empty="We could not retrieve your journal entries, we found nothing.",
    ),
    "vendors": Listing(
        root="vendors",
        rows=lambda c: c.vendors.values(),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            "contact_name": lambda r: r.name,
            "tax_number": lambda r: r.tax_number,
            "status": lambda r: r.status,
        },
        paging=ALL,
        empty="We could not retrieve your vendors, we found nothing.",
    ),
    "simple_bills": Listing(
        root="simple_bills",
        rows=lambda c: c.simple_bills.values(),
        to_json=bills.simple_bill_json,
        attributes={
            "id": lambda r: r.id,
            "contact_id": lambda r: r.contact_id,
            "reference": lambda r: r.reference,
            "status": lambda r: r.status,
            "issue_date": lambda r: r.issue_date,
        },
        paging=PAGED,
        empty="We could not retrieve your simple bills, we found nothing.",
    ),
    "inventories": Listing(
        root="inventories",
        rows=lambda c: c.warehouses.values(),
        to_json=_own,
        attributes={"id": lambda r: r.id, "name": lambda r: r.name, "city": lambda r: r.city},
        paging=ALL,
        empty=None,
    ),
    "special_tax_reasons": Listing(
        root="special_tax_reasons",
        rows=lambda c: c.special_tax_reasons.values(),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            "code": lambda r: r.code,
            "category": lambda r: r.category,
        },
        # Unpaginated, 200 with [] when none (qoyod-openapi-v2.1.yaml).
        paging=ALL,
        empty=None,
    ),
    "taxes": Listing(
        root="taxes",
        rows=lambda c: c.taxes.values(),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            "code": lambda r: r.code,
            "english_name": lambda r: r.name_en,
        },
        paging=PAGED_META,
        empty=None,
        max_per_page=500,
    ),
    "accounts": Listing(
        root="accounts",
        rows=lambda c: c.accounts.values(),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            "code": lambda r: r.code,
            "en_name": lambda r: r.name_en,
            "ar_name": lambda r: r.name_ar,
            "status": lambda r: r.status,
        },
        paging=OPTIONAL,
        empty="We could not retrieve your accounts, we found nothing.",
    ),
    "product_unit_types": Listing(
        root="product_unit_types",
        rows=lambda c: c.units.values(),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            "unit_name": lambda r: r.unit_name,
            "unit_representation": lambda r: r.unit_representation,
        },
        paging=ALL,
        empty="We found nothing",
    ),
    "categories": Listing(
        root="categories",
        rows=lambda c: c.categories.values(),
        to_json=_own,
        attributes={
            "id": lambda r: r.id,
            "name": lambda r: r.name,
            "parent_id": lambda r: None,
        },
        paging=ALL,
        empty="We could not retrieve your categories, we found nothing.",
    ),
}


def _receipt_not_found(model: str) -> dict[str, str]:
    return {"message": f"Invalid {model} ID. Please provide a valid {model} ID."}


# resource → (records of the company, root key of one record, 404 body)
SINGLES: dict[str, tuple[Callable[[Company], Mapping[int, Any]], str, Any]] = {
    "customers": (lambda c: c.customers, "contact", "Customer Not Found"),
    "products": (lambda c: c.products, "product", "Product not found"),
    "invoices": (lambda c: c.invoices, "invoice", "We found nothing"),
    "credit_notes": (lambda c: c.credit_notes, "note", "We found nothing"),
    "invoice_payments": (
        lambda c: {k: v for k, v in c.receipts.items() if v.kind == "received"},
        "receipt",
        _receipt_not_found("receipt"),
    ),
    "receipts": (lambda c: c.receipts, "receipt", _receipt_not_found("receipt")),
    "journal_entries": (
        lambda c: c.journal_entries,
        "journal_entry",
        _receipt_not_found("journal entry"),
    ),
    "vendors": (lambda c: c.vendors, "contact", "Vendor Not Found"),
    "simple_bills": (lambda c: c.simple_bills, "simple_bill", "SimpleBill not found"),
    "inventories": (lambda c: c.warehouses, "inventory", {"error": "Inventory not found"}),
    "taxes": (lambda c: c.taxes, "tax", _receipt_not_found("tax")),
    "special_tax_reasons": (
        lambda c: c.special_tax_reasons,
        "special_tax_reason",
        {"error": "Special tax reason not found"},
    ),
    "accounts": (lambda c: c.accounts, "account", _receipt_not_found("account")),
    "product_unit_types": (
        lambda c: c.units,
        "product_unit_type",
        "Product Unit Type not found",
    ),
    "categories": (lambda c: c.categories, "category", None),
}


def handle(
    company: Company,
    method: str,
    path: str,
    pairs: list[tuple[str, str]],
    body: Any,
    *,
    strict: bool,
    files_url: str = "",
) -> Reply:
    """Answer one API request for `company`; `path` is the part after /2.0. `files_url` is
    where the sandbox serves the files it links to (invoice PDFs)."""
    parts = [part for part in path.split("/") if part]
    try:
        if not parts:
            raise ApiError(404, {"error": "Not Found"})
        resource, rest = parts[0], parts[1:]
        if method == "GET" and not rest and resource in LISTINGS:
            return _list(company, LISTINGS[resource], pairs, strict=strict)
        if method == "GET" and len(rest) == 1 and resource in SINGLES:
            return _one(company, resource, rest[0])
        if method == "GET" and resource == "invoices" and len(rest) == 2 and rest[1] == "pdf":
            return 200, printing.invoice_pdf_link(company, rest[0], files_url)
        return _write(company, method, resource, rest, body)
    except ApiError as error:
        return error.status, error.body


def _list(
    company: Company, listing: Listing, pairs: list[tuple[str, str]], *, strict: bool
) -> Reply:
    query = parse_query(pairs)
    if listing.root == "receipts":
        _kind_as_text(query)
    rows = apply(list(listing.rows(company)), query, listing.attributes, strict=strict)
    meta: dict[str, Any] | None = None
    paged = listing.paging in (PAGED, PAGED_META) or (
        listing.paging == OPTIONAL and query.page and query.per_page
    )
    if listing.root == "accounts":
        chart.refuse_deep_page(company, query.page, bool(paged))
    if paged:
        rows, meta = paginate(rows, query, maximum=listing.max_per_page)
    if not rows and listing.empty is not None:
        return 404, listing.empty
    body: dict[str, Any] = {listing.root: [listing.to_json(company, row) for row in rows]}
    if listing.paging == PAGED_META and meta is not None:
        if listing.string_meta:
            meta = {
                **meta,
                "perPage": str(meta["perPage"]),
                "currentPage": str(meta["currentPage"]),
            }
        body["pagination"] = meta
    return 200, body


def _kind_as_text(query: Query) -> None:
    # Receipts store kind as an enum: received = 0, paid = 1; both forms filter (§15.16).
    names = {"0": "received", "1": "paid"}
    query.filters = [
        (
            attr,
            pred,
            names.get(value, value) if attr == "kind" and isinstance(value, str) else value,
        )
        for attr, pred, value in query.filters
    ]


def _one(company: Company, resource: str, raw_id: str) -> Reply:
    records, root, missing = SINGLES[resource]
    record_id = parse_id(raw_id)
    record = None if record_id is None else records(company).get(record_id)
    if record is None:
        if resource == "categories":
            # Sic: this endpoint really keys its 404 with "invoice" (qoyod-api.md §4.2).
            missing = {"invoice": f"category with id: {raw_id} is not found"}
        raise ApiError(404, missing)
    if resource == "products":
        body = company.product_json(record)
    elif resource == "simple_bills":
        body = bills.simple_bill_json(company, record)
    else:
        body = record.to_json()
    if resource == "inventories":
        body["product_count"] = sum(1 for p in company.products.values() if p.track_quantity)
        body["total_value"] = "0.0"
    return 200, {root: body}


def _write(company: Company, method: str, resource: str, rest: list[str], body: Any) -> Reply:
    record_id = parse_id(rest[0]) if len(rest) == 1 else None
    route = (method, resource, bool(rest))
    if route == ("POST", "customers", False):
        data = _envelope(body, "contact")
        if isinstance(data, list):
            created = _batch(company.customers, company.create_customer, data)
            return 200, {"contacts": [c.to_json() for c in created]}
        return 201, {"contact": company.create_customer(data).to_json()}
    if route == ("POST", "products", False):
        data = _envelope(body, "product")
        if isinstance(data, list):
            created = _batch(company.products, company.create_product, data)
            return 201, {"products": [company.product_json(p) for p in created]}
        return 201, {"product": company.product_json(company.create_product(data))}
    if route == ("POST", "invoices", False):
        invoice = documents.create_invoice(company, _envelope(body, "invoice"))
        return 201, {"invoice": invoice.to_json()}
    if route == ("POST", "credit_notes", False):
        note = notes.create_note(company, _envelope(body, "credit_note"))
        return 201, {"note": note.to_json()}
    if route == ("POST", "invoice_payments", False):
        receipt = documents.pay_invoice(company, _envelope(body, "invoice_payment"))
        return 200, {"receipt": receipt.to_json()}
    if route == ("POST", "inventory_adjustments", False):
        adjustment = inventory.create_adjustment(company, _envelope(body, "inventory_adjustment"))
        return 200, {"inventory_adjustment": adjustment.to_json()}
    if route == ("POST", "journal_entries", False):
        entry = journal.create_journal_entry(company, _envelope(body, "journal_entry"))
        return 200, {"journal_entry": entry.to_json()}
    if route == ("POST", "vendors", False):
        return 201, {"contact": bills.create_vendor(company, _envelope(body, "contact")).to_json()}
    if route == ("POST", "simple_bills", False):
        bill = bills.create_simple_bill(company, _envelope(body, "simple_bill"))
        return 201, {"simple_bill": bills.simple_bill_json(company, bill)}
    if record_id is not None and method in ("PUT", "PATCH"):
        if resource == "customers":
            customer = company.update_customer(record_id, _envelope(body, "contact"))
            return 200, {"contact": customer.to_json()}
        if resource == "products":
            product = company.update_product(record_id, _envelope(body, "product"))
            return 200, {"product": company.product_json(product)}
        if resource == "invoices":
            invoice = documents.update_invoice(company, record_id, _envelope(body, "invoice"))
            return 200, {"invoice": invoice.to_json()}
        if resource == "credit_notes":
            note = notes.update_note(company, record_id, _envelope(body, "credit_note"))
            return 200, {"note": note.to_json()}
    if record_id is not None and method == "DELETE" and resource == "invoices":
        return 200, documents.delete_invoice(company, record_id)
    if record_id is not None and method == "DELETE" and resource == "credit_notes":
        return 200, notes.delete_note(company, record_id)
    raise ApiError(404, {"error": "Not Found"})


def _envelope(body: Any, key: str) -> Any:
    """Rails' params.require(key): a missing or empty envelope is a 400."""
    value = body.get(key) if isinstance(body, Mapping) else None
    if value in (None, "", [], {}):
        raise ApiError(400, {"error": f"param is missing or the value is empty: {key}"})
    return value


def _batch(table: dict[int, Any], create: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """Create every item or none: a batch is atomic (qoyod-api.md §2, 2026-08-31 changelog)."""
    created = []
    try:
        for item in items:
            created.append(create(item))
    except ApiError:
        for record in created:
            del table[record.id]
        raise
    return created
