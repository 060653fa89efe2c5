"""The reader handed to background tasks has no way to POST, PUT, PATCH or DELETE."""

from __future__ import annotations

import ast
import contextlib
import inspect
from datetime import date
from decimal import Decimal
from types import FunctionType
from typing import Any

import httpx
import pytest

from qoyod_sync.client import QoyodReader, QoyodWriter, reader, transport
from qoyod_sync.errors import QoyodNotFound
from tests.qoyod_fixtures import SandboxHandle

WRITE_WORDS = (
    "post",
    "put",
    "patch",
    "delete",
    "create",
    "update",
    "write",
    "send",
    "request",
    "stream",
)


def reachable(root: object, depth: int = 4) -> list[tuple[str, object]]:
    """Every object reachable from `root` through attributes (public or private, not dunder)."""
    found: list[tuple[str, object]] = []
    frontier: list[tuple[str, object]] = [("reader", root)]
    seen: set[int] = set()
    for _ in range(depth):
        following = []
        for path, obj in frontier:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            for name in dir(obj):
                if name.startswith("__"):
                    continue
                try:
                    value = inspect.getattr_static(obj, name)
                except AttributeError:
                    continue
                if isinstance(value, staticmethod | classmethod):
                    value = value.__func__
                found.append((f"{path}.{name}", value))
                following.append((f"{path}.{name}", getattr(obj, name, value)))
        frontier = following
    return found


def test_no_attribute_of_a_reader_leads_to_a_write(qoyod_sandbox: SandboxHandle) -> None:
    reader = qoyod_sandbox.reader()

    objects = reachable(reader)

    names = [path.rsplit(".", 1)[1].lower() for path, _ in objects]
    assert not [n for n in names if any(word in n for word in WRITE_WORDS)]
    assert not [p for p, obj in objects if isinstance(obj, httpx.Client | QoyodWriter)]
    # Its one link to the network is a function, not an object with methods.
    assert type(reader._get) is FunctionType


def test_the_reader_module_reaches_the_transport_only_through_read() -> None:
    tree = ast.parse(inspect.getsource(reader))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    session_members = {name for name in dir(transport.Session) if not name.startswith("__")}

    assert not {"httpx", "qoyod_sync.client.writer"} & imported
    assert used & session_members == {"read"}
    assert session_members > {"read", "write"}


def test_a_reader_cannot_be_given_new_attributes(qoyod_sandbox: SandboxHandle) -> None:
    reader = qoyod_sandbox.reader()

    with pytest.raises(AttributeError):
        reader.http = httpx.Client()  # type: ignore[attr-defined]


def test_the_writers_reader_is_read_only_too(qoyod_sandbox: SandboxHandle) -> None:
    writer = qoyod_sandbox.writer()

    assert type(writer.reader) is QoyodReader
    assert not [
        p for p, obj in reachable(writer.reader) if isinstance(obj, httpx.Client | QoyodWriter)
    ]


def test_every_reader_method_sends_only_get(qoyod_sandbox: SandboxHandle) -> None:
    writer = qoyod_sandbox.writer()
    customer = writer.create_customer(
        name="Ali", phone_number="0500000001", tax_number="300000000000003"
    )
    product = writer.create_service_product(
        sku="S-1",
        name_ar="خدمة",
        name_en="Service",
        selling_price=Decimal("1"),
        tax_id=1,
        unit_id=1,
        category_id=1,
        sales_account_id=17,
    )
    qoyod_sandbox.requests.clear()
    reader = qoyod_sandbox.reader()
    arguments: dict[str, tuple[Any, ...] | dict[str, Any]] = {
        "get_customer": (customer.id,),
        "find_customers_by_tax_number": ("300000000000003",),
        "find_customers_by_phone": ("0500000001",),
        "search_customers": ("Ali",),
        "find_customers_by_name": ("Ali",),
        "get_product": (product.id,),
        "find_product_by_sku": ("S-1",),
        "find_products_by_skus": (["S-1"],),
        "get_invoice": (1,),
        "invoice_pdf_url": (1,),
        "list_invoices_by_ids": ([1, 2],),
        "find_invoice_by_reference": ("INV-1",),
        "find_credit_note_by_reference": ("CRN-2026-000001",),
        "get_invoice_payment": (1,),
        "get_journal_entry": (1,),
        "find_journal_entries": {"description": "x", "on": date(2025, 1, 1)},
        "list_journal_entries": {"date_from": date(2025, 1, 1), "date_to": date(2025, 1, 31)},
        "find_vendors_by_tax_number": ("300000000000003",),
        "find_simple_bills": ("EXP-2026-000001",),
        "list_invoices_issued": {"date_from": date(2025, 1, 1), "date_to": date(2025, 1, 31)},
        "list_credit_notes_issued": {
            "date_from": date(2025, 1, 1),
            "date_to": date(2025, 1, 31),
        },
        "list_simple_bills_issued": {
            "date_from": date(2025, 1, 1),
            "date_to": date(2025, 1, 31),
        },
    }
    public = [
        name
        for name, _ in inspect.getmembers(QoyodReader, inspect.isfunction)
        if not name.startswith("_")
    ]

    for name in public:
        args = arguments.get(name, ())
        # A 404 for a made-up id is fine here: only the method matters.
        with contextlib.suppress(QoyodNotFound):
            if isinstance(args, dict):
                getattr(reader, name)(**args)
            else:
                getattr(reader, name)(*args)

    methods = {r.method for r in qoyod_sandbox.requests.all()}
    assert methods == {"GET"}
    assert len(public) == 32
