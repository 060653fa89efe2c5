"""The Qoyod-quirk predicates, on the exact error bodies qoyod-api.md records."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qoyod_sync.client.transport import NOT_JSON
from qoyod_sync.errors import (
    QoyodError,
    QoyodMaybeSaved,
    QoyodNotFound,
    QoyodRejected,
    accounting_rejected,
    customer_inactive,
    found_nothing,
    normalise_error_body,
    reference_taken,
    sku_taken,
    stock_rejected,
    vat_rejected,
)

Predicate = Callable[[QoyodError], bool]


def rejected(body: Any) -> QoyodRejected:
    """The error the client raises for a 422 with this body."""
    return QoyodRejected("rejected", errors=normalise_error_body(body), status_code=422)


# §11.2 / §10.5 / §13.13
REFERENCE_TAKEN = {"errors": {"reference": ["has already been taken"]}}
# §4.1 / §10.5
SKU_TAKEN = {"errors": {"sku": ["Reference is already taken by id 4619"]}}
SKU_AND_NAME = {
    "errors": {
        "sku": ["Reference is already taken by id 4619"],
        "name": ["Please Enter The Product Name."],
    }
}
# §5.1 / §10.5
INACTIVE = {"errors": ["this contact 42 is not active"]}
CONTACT_MISSING = {"errors": ["contact id is missing"]}
# §10.5 (the exact shortfall text is unknown; Qoyod names the field)
LINE_QUANTITY = {"errors": {"line_items": [{"quantity": ["must be greater than 0"]}]}}
# §4.1 live answers
TAX_MISSING = {"errors": {"tax_id": ["Please select taxes"]}}
COGS_MISSING = {"errors": {"cogs_account_id": ["Can't be blank"]}}
# §10.2 shape 3
PLUTUS = {"errors": "Plutus::Account id 999 is not valid"}
# §10.5 / §13.13
NOT_DRAFT = {"errors": "Not update other than draft"}
CANNOT_PAY = {"errors": "Cannot pay Draft invoice"}
ACCOUNT_CODE_TAKEN = {
    "error": "Invalid resource",
    "messages": {"code": ["code is already taken by id 52"]},
}
DEBIT_CREDIT = {"errors": {"base": ["Total debit and credit amounts must be equal"]}}


@pytest.mark.parametrize(
    ("predicate", "body", "expected"),
    [
        (reference_taken, REFERENCE_TAKEN, True),
        (reference_taken, {"errors": {"reference": "has already been taken"}}, True),
        (reference_taken, SKU_TAKEN, False),
        (reference_taken, ACCOUNT_CODE_TAKEN, False),
        (reference_taken, {"errors": {"reference": ["must end with a digit"]}}, False),
        (sku_taken, SKU_TAKEN, True),
        (sku_taken, SKU_AND_NAME, True),
        (sku_taken, REFERENCE_TAKEN, False),
        (sku_taken, {"errors": {"name": ["Please Enter The Product Name."]}}, False),
        (customer_inactive, INACTIVE, True),
        (customer_inactive, CONTACT_MISSING, False),
        (customer_inactive, REFERENCE_TAKEN, False),
        (stock_rejected, LINE_QUANTITY, True),
        (stock_rejected, {"errors": {"inventory_id": ["must exist"]}}, True),
        (stock_rejected, TAX_MISSING, False),
        (stock_rejected, REFERENCE_TAKEN, False),
        (vat_rejected, TAX_MISSING, True),
        (
            vat_rejected,
            {"errors": {"line_items.tax_percent": ["must have at most 2 decimals"]}},
            True,
        ),
        (vat_rejected, COGS_MISSING, False),
        (vat_rejected, NOT_DRAFT, False),
        (accounting_rejected, PLUTUS, True),
        (accounting_rejected, COGS_MISSING, True),
        (accounting_rejected, DEBIT_CREDIT, False),
        (accounting_rejected, CANNOT_PAY, False),
    ],
)
def test_each_predicate_reads_its_documented_shape(
    predicate: Predicate, body: Any, expected: bool
) -> None:
    assert predicate(rejected(body)) is expected


@pytest.mark.parametrize(
    "predicate",
    [
        reference_taken,
        sku_taken,
        customer_inactive,
        stock_rejected,
        vat_rejected,
        accounting_rejected,
    ],
)
@pytest.mark.parametrize(
    "exc",
    [
        QoyodMaybeSaved("Qoyod had a server error (HTTP 500) reference taken stock tax account"),
        QoyodNotFound("We found nothing", status_code=404),
    ],
)
def test_only_a_rejection_counts(predicate: Predicate, exc: QoyodError) -> None:
    assert predicate(exc) is False


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("We could not retrieve your customers, we found nothing.", True),
        ("لم نتمكن من استرجاع الفواتير، لم نجد شيئا.", True),
        ("We found nothing", True),
        ({"message": "Invalid receipt ID. Please provide a valid receipt ID."}, False),
        ({"error": "Inventory not found"}, False),
        (NOT_JSON, False),
    ],
)
def test_found_nothing_reads_the_404_shape_not_its_words(body: Any, expected: bool) -> None:
    assert found_nothing(body) is expected


TEXT_METHODS = {"lower", "upper", "casefold", "startswith", "endswith", "find", "search", "match"}
QOYOD_WORDS = {"errors", "message", "text"}


@pytest.mark.parametrize("module", ["qoyod_sync/push/steps.py", "qoyod_sync/client/transport.py"])
def test_callers_branch_on_the_predicates_not_on_qoyods_words(module: str) -> None:
    tree = ast.parse((Path(__file__).resolve().parents[2] / module).read_text(encoding="utf-8"))
    text_calls = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in TEXT_METHODS
    ]
    searched = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
        and any(
            isinstance(side, ast.Attribute) and side.attr in QOYOD_WORDS for side in ast.walk(node)
        )
    ]

    assert (text_calls, searched) == ([], [])
