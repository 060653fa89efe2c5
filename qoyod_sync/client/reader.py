"""QoyodReader: read-only access to one Qoyod company, safe to hand to background tasks.

It holds nothing that can send anything but GET: its one link to the network is a function
over Session.read, and this module never names a write path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from django.views.decorators.debug import sensitive_variables

from qoyod_sync.client.transport import ClientOptions, Params, Session, parse
from qoyod_sync.errors import QoyodNotFound, QoyodUnavailable
from qoyod_sync.types import (
    Account,
    Category,
    CreditNote,
    Customer,
    Invoice,
    JournalEntry,
    Product,
    Receipt,
    SimpleBill,
    SpecialTaxReason,
    Tax,
    Unit,
    Vendor,
    Warehouse,
)

T = TypeVar("T")

# Rows per page asked for, and ids or SKUs per batched lookup: 100 is the default page size
# of every paged Qoyod list and the documented maximum of some (qoyod-api.md §9.1, §15.14).
PAGE_SIZE = 100
# Matches of a lookup read at most: a real filter on a phone, VAT number or SKUs never matches
# more, so reaching it means the filter was not applied.
_MATCHES_READ = 5 * PAGE_SIZE


class QoyodReader:
    """Read-only access to one Qoyod company; safe to hand to background tasks."""

    __slots__ = ("_get", "_reads")

    @sensitive_variables("api_key")
    def __init__(
        self, *, base_url: str, api_key: str, options: ClientOptions | None = None
    ) -> None:
        self._get, self._reads = _read_only(Session(base_url, api_key, options))

    @classmethod
    def _over(cls, session: Session) -> QoyodReader:
        reader = cls.__new__(cls)
        reader._get, reader._reads = _read_only(session)
        return reader

    @property
    def reads_made(self) -> int:
        """GET requests this reader has put on the wire, retries included."""
        return self._reads()

    # customers

    def list_customers(self) -> list[Customer]:
        """All customers, every page."""
        return self._list("/customers", "customers", Customer.from_json)

    def get_customer(self, customer_id: int) -> Customer:
        """One customer by Qoyod id."""
        return self._one(f"/customers/{int(customer_id)}", "contact", Customer.from_json)

    def find_customers_by_tax_number(self, tax_number: str) -> list[Customer]:
        """Customers whose VAT number is exactly this (Qoyod allows duplicates)."""
        wanted = tax_number.strip()
        # Unknown q keys are ignored silently (qoyod-api.md §9.3): always re-check here.
        return self._matching(
            "/customers", "customers", Customer.from_json, [("q[tax_number_eq]", wanted)],
            lambda c: c.tax_number.strip() == wanted,
        )  # fmt: skip

    def find_customers_by_phone(self, phone: str) -> list[Customer]:
        """Customers whose phone is this number, whatever the +966/0 prefix."""
        wanted = phone_digits(phone)
        if not wanted:
            return []
        rows = self._matching(
            "/customers", "customers", Customer.from_json,
            [("q[primary_contact_number_cont]", wanted)],
            lambda c: wanted in "".join(ch for ch in c.phone_number if ch.isdigit()),
        )  # fmt: skip
        return [c for c in rows if c.phone_number and phone_digits(c.phone_number) == wanted]

    def search_customers(self, name: str) -> list[Customer]:
        """Customers whose name contains this text (case-insensitive)."""
        wanted = name.strip().casefold()
        # contact_name is the Ransack attribute the spec documents (qoyod-api.md §15.17).
        rows = self._list(
            "/customers", "customers", Customer.from_json, [("q[contact_name_cont]", name.strip())]
        )
        return [c for c in rows if wanted in c.name.casefold()]

    def find_customers_by_name(self, name: str) -> list[Customer]:
        """Customers whose name is exactly this, ignoring case and surrounding spaces."""
        wanted = name.strip().casefold()
        rows = self._matching(
            "/customers", "customers", Customer.from_json, [("q[contact_name_cont]", name.strip())],
            lambda c: wanted in c.name.casefold(),
        )  # fmt: skip
        return [c for c in rows if c.name.strip().casefold() == wanted]

    # products

    def list_products(self) -> list[Product]:
        """All products, every page."""
        return self._list("/products", "products", Product.from_json)

    def get_product(self, product_id: int) -> Product:
        """One product with its stock per warehouse."""
        return self._one(f"/products/{int(product_id)}", "product", Product.from_json)

    def find_product_by_sku(self, sku: str) -> Product | None:
        """The product with exactly this SKU (SKUs are unique in Qoyod), or None."""
        return self.find_products_by_skus([sku]).get(sku)

    def find_products_by_skus(self, skus: Iterable[str]) -> dict[str, Product]:
        """Products by exact SKU, one request per 100 SKUs; missing SKUs are absent."""
        wanted = list(dict.fromkeys(skus))
        found: dict[str, Product] = {}
        for chunk in _chunks(wanted, PAGE_SIZE):
            params = [("q[sku_in][]", sku) for sku in chunk]
            rows = self._matching(
                "/products", "products", Product.from_json, params, _sku_in(frozenset(chunk))
            )
            for product in rows:
                found.setdefault(product.sku, product)
        return found

    # configuration

    def list_warehouses(self) -> list[Warehouse]:
        """Warehouses ("inventories"); also a cheap check that the key works."""
        return self._list("/inventories", "inventories", Warehouse.from_json)

    def list_taxes(self) -> list[Tax]:
        """The company's taxes."""
        return self._list("/taxes", "taxes", Tax.from_json)

    def list_special_tax_reasons(self) -> list[SpecialTaxReason]:
        """The reasons a zero-rated or exempt product must name (unpaginated, may be empty)."""
        return self._list("/special_tax_reasons", "special_tax_reasons", SpecialTaxReason.from_json)

    def list_accounts(self) -> list[Account]:
        """The chart of accounts (leaf accounts only), active and inactive, every page."""
        rows = self._walk("/accounts", "accounts")
        return [parse(Account.from_json, row, "GET /accounts") for row in rows]

    def list_units(self) -> list[Unit]:
        """Units of measure."""
        return self._list("/product_unit_types", "product_unit_types", Unit.from_json)

    def list_categories(self) -> list[Category]:
        """Product categories."""
        return self._list("/categories", "categories", Category.from_json)

    # invoices

    def get_invoice(self, invoice_id: int) -> Invoice:
        """One invoice with its lines and payments."""
        return self._one(f"/invoices/{int(invoice_id)}", "invoice", Invoice.from_json)

    def invoice_pdf_url(self, invoice_id: int) -> str:
        """A temporary public address of Qoyod's own PDF of the invoice: the tax invoice."""
        return self._one(f"/invoices/{int(invoice_id)}/pdf", "pdf_file", _web_address)

    def list_invoices_by_ids(self, invoice_ids: Iterable[int]) -> list[Invoice]:
        """The invoices with these ids, one request per 100 ids; ids Qoyod lacks are absent."""
        wanted = list(dict.fromkeys(int(i) for i in invoice_ids))
        found: dict[int, Invoice] = {}
        for chunk in _chunks(wanted, PAGE_SIZE):
            params = [("q[id_in][]", i) for i in chunk] + [("page", 1), ("per_page", PAGE_SIZE)]
            body = self._get("/invoices", params, empty_on_not_found=True)
            rows = [] if body is None else parse(_rows_of("invoices"), body, "GET /invoices")
            invoices = [parse(Invoice.from_json, row, "GET /invoices") for row in rows]
            requested = set(chunk)
            found.update((inv.id, inv) for inv in invoices if inv.id in requested)
            if any(inv.id not in requested for inv in invoices):
                # The filter was ignored (unknown q keys are, §9.3): fetch the rest one by one
                # rather than report invoices as missing.
                for invoice_id in chunk:
                    if invoice_id not in found:
                        with contextlib.suppress(QoyodNotFound):
                            found[invoice_id] = self.get_invoice(invoice_id)
        return [found[i] for i in wanted if i in found]

    def list_invoices_issued(self, *, date_from: date, date_to: date) -> list[Invoice]:
        """Invoices issued within [date_from, date_to], 100 per request (qoyod-api.md §9.3).

        An ignored date filter would return every invoice; the range is checked here as well.
        """
        params = [
            ("q[issue_date_gteq]", date_from.isoformat()),
            ("q[issue_date_lteq]", date_to.isoformat()),
        ]
        return [
            invoice
            for invoice in self._list("/invoices", "invoices", Invoice.from_json, params)
            if invoice.issue_date is not None and date_from <= invoice.issue_date <= date_to
        ]

    def find_invoice_by_reference(self, reference: str) -> Invoice | None:
        """The invoice whose reference is exactly ours, or None (our idempotency lookup)."""
        params = [("q[reference_eq]", reference)]
        for row in self._walk("/invoices", "invoices", params):
            invoice = parse(Invoice.from_json, row, "GET /invoices")
            if invoice.reference == reference:
                return invoice
        return None

    # credit notes

    def find_credit_note_by_reference(self, reference: str) -> CreditNote | None:
        """The credit note whose reference is exactly ours, or None (our idempotency lookup)."""
        params = [("q[reference_eq]", reference)]
        for row in self._walk("/credit_notes", "credit_notes", params):
            note = parse(CreditNote.from_json, row, "GET /credit_notes")
            if note.reference == reference:
                return note
        return None

    def list_credit_notes_issued(self, *, date_from: date, date_to: date) -> list[CreditNote]:
        """Credit notes issued within [date_from, date_to], 100 per request, the range checked
        here as well (an ignored filter returns every note, qoyod-api.md §9.3)."""
        params = [
            ("q[issue_date_gteq]", date_from.isoformat()),
            ("q[issue_date_lteq]", date_to.isoformat()),
        ]
        return [
            note
            for note in self._list("/credit_notes", "credit_notes", CreditNote.from_json, params)
            if note.issue_date is not None and date_from <= note.issue_date <= date_to
        ]

    # payments

    def list_invoice_payments(self, *, contact_id: int | None = None) -> list[Receipt]:
        """Payments received against invoices (receipts of kind "received")."""
        params = [] if contact_id is None else [("q[contact_id_eq]", int(contact_id))]
        return self._list("/invoice_payments", "receipts", Receipt.from_json, params)

    def get_invoice_payment(self, payment_id: int) -> Receipt:
        """One invoice payment (a receipt) with its allocations."""
        return self._one(f"/invoice_payments/{int(payment_id)}", "receipt", Receipt.from_json)

    def list_receipts(self, *, contact_id: int | None = None) -> list[Receipt]:
        """All receipts, received and paid."""
        params = [] if contact_id is None else [("q[contact_id_eq]", int(contact_id))]
        return self._list("/receipts", "receipts", Receipt.from_json, params)

    # journal entries

    def get_journal_entry(self, entry_id: int) -> JournalEntry:
        """One journal entry."""
        return self._one(
            f"/journal_entries/{int(entry_id)}", "journal_entry", JournalEntry.from_json
        )

    def list_journal_entries(
        self, *, date_from: date, date_to: date, description_contains: str = ""
    ) -> list[JournalEntry]:
        """Journal entries dated within [date_from, date_to] whose description contains this.

        The list has no paging and returns the whole ledger unfiltered (qoyod-api.md §8.2), so
        the date range is required.
        """
        if date_to < date_from:
            raise ValueError("date_to is before date_from")
        first, last = date_from.isoformat(), date_to.isoformat()
        # The spec names the date attribute journal_entry_date, another client uses date
        # (qoyod-api.md §15.18); a wrong one is ignored, so send both and check here.
        params: list[tuple[str, Any]] = [
            ("q[journal_entry_date_gteq]", first),
            ("q[journal_entry_date_lteq]", last),
            ("q[date_gteq]", first),
            ("q[date_lteq]", last),
        ]
        wanted = description_contains.strip()
        if wanted:
            params.insert(0, ("q[description_cont]", wanted))
        body = self._get("/journal_entries", params, empty_on_not_found=True)
        rows = (
            [] if body is None else parse(_rows_of("journal_entries"), body, "GET /journal_entries")
        )
        entries = [parse(JournalEntry.from_json, row, "GET /journal_entries") for row in rows]
        # Ransack's cont is case-insensitive; ignored filters return everyone (§9.3).
        return [
            e
            for e in entries
            if e.date is not None
            and date_from <= e.date <= date_to
            and wanted.casefold() in e.description.casefold()
        ]

    def find_journal_entries(self, *, description: str, on: date) -> list[JournalEntry]:
        """Journal entries dated `on` whose description is exactly this."""
        rows = self.list_journal_entries(date_from=on, date_to=on, description_contains=description)
        return [e for e in rows if e.description == description]

    # vendors and simple bills

    def find_vendors_by_tax_number(self, tax_number: str) -> list[Vendor]:
        """Vendors whose VAT number is exactly this (Qoyod allows duplicates)."""
        wanted = tax_number.strip()
        if not wanted:
            return []
        # /vendors has no paging: one answer holds every vendor the filter lets through, and a
        # tenant that ignores the filter sends them all (qoyod-api.md §3.3, §9.3).
        body = self._get("/vendors", [("q[tax_number_eq]", wanted)], empty_on_not_found=True)
        rows = [] if body is None else parse(_rows_of("vendors"), body, "GET /vendors")
        vendors = [parse(Vendor.from_json, row, "GET /vendors") for row in rows]
        return [v for v in vendors if v.tax_number.strip() == wanted]

    def find_simple_bills(self, reference: str) -> list[SimpleBill]:
        """Simple bills whose reference is exactly this."""
        wanted = reference.strip()
        rows = self._matching(
            "/simple_bills", "simple_bills", SimpleBill.from_json,
            [("q[reference_cont]", wanted)], lambda b: wanted in b.reference,
        )  # fmt: skip
        return [b for b in rows if b.reference == wanted]

    def list_simple_bills_issued(self, *, date_from: date, date_to: date) -> list[SimpleBill]:
        """Simple bills issued within [date_from, date_to], 100 per request, the range checked
        here as well (an ignored filter returns every bill, qoyod-api.md §9.3)."""
        params = [
            ("q[issue_date_gteq]", date_from.isoformat()),
            ("q[issue_date_lteq]", date_to.isoformat()),
        ]
        return [
            bill
            for bill in self._list("/simple_bills", "simple_bills", SimpleBill.from_json, params)
            if bill.issue_date is not None and date_from <= bill.issue_date <= date_to
        ]

    # plumbing

    def _one(self, path: str, root: str, parser: Callable[[Any], T]) -> T:
        body = self._get(path)
        return parse(lambda b: parser(_root(b, root)), body, f"GET {path}")

    def _list(
        self, path: str, root: str, parser: Callable[[Any], T], params: Params = ()
    ) -> list[T]:
        return [parse(parser, row, f"GET {path}") for row in self._walk(path, root, params)]

    def _matching(
        self,
        path: str,
        root: str,
        parser: Callable[[Any], T],
        params: Params,
        honoured: Callable[[T], bool],
    ) -> list[T]:
        """The rows of a filtered list that pass `honoured`, the filter's own test.

        A tenant that ignores the filter (qoyod-api.md §9.3) answers with its whole list: one
        page with a row the filter would have dropped shows it, and the walk stops at the end of
        that page instead of reading every customer or product. The stored links come first
        and Qoyod's own uniqueness (SKU, reference) catches what one page does not show.
        """
        matches: list[T] = []
        for index, row in enumerate(self._walk(path, root, params), start=1):
            record = parse(parser, row, f"GET {path}")
            if honoured(record):
                matches.append(record)
            if index % PAGE_SIZE == 0 and (len(matches) < index or index >= _MATCHES_READ):
                break
        return matches

    def _walk(self, path: str, root: str, params: Params = ()) -> Iterator[Any]:
        """Rows of every page, robust to endpoints that ignore paging (qoyod-api.md §9.2).

        A page past the first that fails for a temporary reason (some large tenants answer 500
        on deep offsets, §10.6) is not the end of the list: the walk carries on by id from the
        last row it has (§9.4).
        """
        seen: set[Any] = set()
        page = 1
        while True:
            query = [*params, ("q[s]", "id asc"), ("page", page), ("per_page", PAGE_SIZE)]
            try:
                body = self._get(path, query, empty_on_not_found=True)
            except QoyodUnavailable as exc:
                if page == 1:
                    raise
                yield from self._walk_by_id(path, root, params, seen, exc)
                return
            if body is None:
                return
            rows = parse(_rows_of(root), body, f"GET {path}")
            if not rows or _row_id(rows[0]) in seen:
                # An endpoint that ignores `page` sends page 1 again.
                return
            for row in rows:
                row_id = _row_id(row)
                if row_id not in seen:
                    seen.add(row_id)
                    yield row
            # Fewer rows than asked for is the last page; more means per_page was ignored
            # and everything came at once.
            if len(rows) != PAGE_SIZE or _last_page(body, page):
                return
            page += 1

    def _walk_by_id(
        self, path: str, root: str, params: Params, seen: set[Any], failure: QoyodUnavailable
    ) -> Iterator[Any]:
        """The rest of a walk, paged by `q[id_gt]` in id order (qoyod-api.md §9.4)."""
        ids = [row_id for row_id in seen if isinstance(row_id, int)]
        if len(ids) != len(seen):
            raise failure
        cursor = max(ids)
        while True:
            # page=1 as well: endpoints whose paging is optional (accounts) page only when
            # both page and per_page are sent.
            query = [
                *params,
                ("q[s]", "id asc"),
                ("q[id_gt]", cursor),
                ("page", 1),
                ("per_page", PAGE_SIZE),
            ]
            body = self._get(path, query, empty_on_not_found=True)
            if body is None:
                return
            rows = parse(_rows_of(root), body, f"GET {path}")
            row_ids = [_row_id(row) for row in rows]
            if not all(isinstance(i, int) and i > cursor for i in row_ids):
                # The tenant ignored q[id_gt] (unknown q keys are, §9.3): the walk cannot go on,
                # and stopping here would pass off part of the list as all of it.
                raise failure
            for row, row_id in zip(rows, row_ids, strict=True):
                if row_id not in seen:
                    seen.add(row_id)
                    yield row
            if len(rows) < PAGE_SIZE:
                return
            cursor = max(row_ids)


def _read_only(session: Session) -> tuple[Callable[..., Any], Callable[[], int]]:
    """The reader's only link to the network: a function that sends GET and nothing else, and
    one that says how many requests it has sent."""

    # A closure rather than the session itself, so no attribute of a reader leads to an object
    # with a way to POST, PUT or DELETE.
    def get(path: str, params: Params = (), *, empty_on_not_found: bool = False) -> Any:
        return session.read(path, params, empty_on_not_found=empty_on_not_found)

    def sent() -> int:
        return session.sent

    return get, sent


def _rows_of(root: str) -> Callable[[Any], list[Any]]:
    def rows(body: Any) -> list[Any]:
        value = _root(body, root)
        if not isinstance(value, list):
            raise TypeError(f"{root!r} is not a list")
        return value

    return rows


def _web_address(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ValueError("not a web address")
    return value


def _row_id(row: Any) -> Any:
    return row.get("id") if isinstance(row, Mapping) else None


def _last_page(body: Any, page: int) -> bool:
    pagination = body.get("pagination") if isinstance(body, Mapping) else None
    if not isinstance(pagination, Mapping) or pagination.get("totalPages") is None:
        return False
    try:
        # currentPage is a string on /products and an integer elsewhere (§15.15).
        current = int(pagination.get("currentPage") or page)
        return current >= int(pagination["totalPages"])
    except (TypeError, ValueError):
        return False


def _root(body: Any, key: str) -> Any:
    if not isinstance(body, Mapping):
        raise TypeError(f"expected an object with {key!r}")
    return body[key]


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sku_in(skus: frozenset[str]) -> Callable[[Product], bool]:
    return lambda product: product.sku in skus


def phone_digits(phone: str) -> str:
    """The national number: digits only, without 00966 / +966 / a leading 0."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    for prefix in ("00966", "966", "0"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 6:
            return digits[len(prefix) :]
    return digits
