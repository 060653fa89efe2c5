"""Qoyod's error bodies folded into one field → messages shape."""

from __future__ import annotations

import pytest

from qoyod_sync.errors import (
    QoyodMaybeSaved,
    QoyodNotSent,
    QoyodRateLimited,
    QoyodRejected,
    QoyodUnavailable,
    describe_errors,
    normalise_error_body,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"errors": {"sku": ["Reference is already taken by id 4619"]}},
            {"sku": ["Reference is already taken by id 4619"]},
        ),
        (
            {"errors": {"reference": "has already been taken"}},
            {"reference": ["has already been taken"]},
        ),
        ({"errors": ["contact id is missing"]}, {"base": ["contact id is missing"]}),
        ({"errors": "Not update other than draft"}, {"base": ["Not update other than draft"]}),
        (
            {"error": "Invalid resource", "messages": {"code": ["code is already taken by id 52"]}},
            {"code": ["code is already taken by id 52"]},
        ),
        ({"error": "Unauthorized - Invalid API key"}, {"base": ["Unauthorized - Invalid API key"]}),
        (
            {"message": "Invalid receipt ID. Please provide a valid receipt ID."},
            {"base": ["Invalid receipt ID. Please provide a valid receipt ID."]},
        ),
        ("We found nothing", {"base": ["We found nothing"]}),
        (
            {"errors": {"line_items": [{"quantity": ["must be greater than 0"]}]}},
            {"line_items.quantity": ["must be greater than 0"]},
        ),
        (
            {"invoice": "category with id: 999 is not found"},
            {"invoice": ["category with id: 999 is not found"]},
        ),
        ({"errors": {}}, {}),
        (None, {}),
        ("  ", {}),
    ],
)
def test_every_body_shape_folds_into_field_messages(body: object, expected: dict) -> None:
    assert normalise_error_body(body) == expected


def test_description_puts_base_messages_without_a_field_name() -> None:
    errors = {"base": ["Cannot pay Draft invoice"], "amount": ["Can't be blank", "must be > 0"]}

    assert (
        describe_errors(errors) == "Cannot pay Draft invoice; amount: Can't be blank, must be > 0"
    )


def test_the_family_lets_callers_branch_on_class() -> None:
    assert issubclass(QoyodNotSent, QoyodUnavailable)
    assert issubclass(QoyodMaybeSaved, QoyodUnavailable)
    assert not issubclass(QoyodRejected, QoyodUnavailable)
    assert not issubclass(QoyodRateLimited, QoyodUnavailable)


def test_repr_names_the_class_status_and_message() -> None:
    error = QoyodRejected(
        "Qoyod rejected the request (HTTP 422): x", errors={"base": ["x"]}, status_code=422
    )

    assert repr(error) == (
        "QoyodRejected(status_code=422, message='Qoyod rejected the request (HTTP 422): x')"
    )
