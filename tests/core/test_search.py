from __future__ import annotations

import pytest
from django.db.models import Q

from core.arabic import plate_search_key
from core.search import SearchFragments, search_fragments, search_q


def test_plate_search_key_maps_arabic_letters_and_digits_to_the_stored_key() -> None:
    assert plate_search_key("١٢٣٤ ا ب ح") == "1234ABJ"
    assert plate_search_key("1234 abj") == "1234ABJ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0551234567", SearchFragments("551234567", "0551234567", "", "")),
        ("+966 55 123 4567", SearchFragments("551234567", "966551234567", "", "")),
        ("00966551234567", SearchFragments("551234567", "00966551234567", "", "")),
        ("٠٥٥١٢٣", SearchFragments("55123", "055123", "", "")),
        ("(055) 123-45.67", SearchFragments("551234567", "0551234567", "", "")),
        ("310123456789003", SearchFragments("310123456789003", "310123456789003", "", "")),
        ("4567", SearchFragments("4567", "4567", "4567", "4567")),
        ("ا ب ح ١٢٣٤", SearchFragments("", "", "1234ABJ", "1234 ABJ")),
        ("١٢٣٤ ا ب ح", SearchFragments("", "", "1234ABJ", "1234 ABJ")),
        ("1234abj", SearchFragments("", "", "1234ABJ", "1234 ABJ")),
        ("ب ح", SearchFragments("", "", "BJ", "BJ")),
        ("AB", SearchFragments("", "", "AB", "AB")),
        # Neither a number (letters) nor a plate ("ج" is not a plate letter).
        ("أ ب ج 123", SearchFragments("", "", "", "")),
        ("Noura", SearchFragments("", "", "", "")),
        ("12345 AB", SearchFragments("", "", "", "")),
        ("JOB-2026-000123", SearchFragments("", "", "", "")),
    ],
)
def test_search_fragments(text, expected):
    assert search_fragments(text) == expected


def test_short_numbers_search_only_what_is_long_enough():
    assert search_fragments("05") == SearchFragments("", "", "05", "05")
    assert search_fragments("0 5 5") == SearchFragments("", "055", "055", "055")
    assert search_fragments("96655") == SearchFragments("", "96655", "", "")


def test_search_q_ors_the_fields_with_the_paths_the_text_can_match():
    q = search_q(
        " 1234 AB ",
        fields=["number"],
        phone="phone",
        vat="vat",
        plate_key="vehicle__plate_key",
        plate="vehicle_plate",
    )
    assert q == (
        Q(number__icontains="1234 AB")
        | Q(vehicle__plate_key__icontains="1234AB")
        | Q(vehicle_plate__icontains="1234 AB")
    )


def test_search_q_skips_paths_it_is_not_given():
    assert search_q("0551234567", fields=["name"]) == Q(name__icontains="0551234567")
    assert search_q("0551234567", fields=["name"], phone="phone") == (
        Q(name__icontains="0551234567") | Q(phone__contains="551234567")
    )
