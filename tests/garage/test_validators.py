from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from garage import validators


@pytest.mark.parametrize(
    "typed",
    [
        "0551234567",
        "055 123 4567",
        "+966551234567",
        "+966 55 123 4567",
        "00966551234567",
        "966551234567",
        "551234567",
        "(055) 123-4567",
        "٠٥٥١٢٣٤٥٦٧",  # Arabic-Indic digits
        "۰۵۵۱۲۳۴۵۶۷",  # Eastern Arabic-Indic (Persian) digits
    ],
)
def test_phone_in_any_common_spelling_is_stored_as_plus_966(typed: str) -> None:
    assert validators.normalise_phone(typed) == "+966551234567"


@pytest.mark.parametrize(
    "typed",
    ["", "0112345678", "05512345", "055123456789", "+971551234567", "05512345a7", "٠٤٥١٢٣٤٥٦٧"],
)
def test_phone_that_is_not_a_saudi_mobile_is_rejected(typed: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validators.normalise_phone(typed)
    assert exc.value.code == "invalid_phone"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("300000000000003", "300000000000003"),
        ("310 1234 5678 9003", "310123456789003"),
        ("٣٠٠٠٠٠٠٠٠٠٠٠٠٠٣", "300000000000003"),
    ],
)
def test_vat_number_is_stored_as_15_ascii_digits(typed: str, stored: str) -> None:
    assert validators.normalise_vat_number(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "30000000000003",  # 14 digits
        "3000000000000003",  # 16 digits
        "200000000000003",  # does not start with 3
        "300000000000002",  # does not end with 3
        "30000000000000A",
        "٢٠٠٠٠٠٠٠٠٠٠٠٠٠٣",
    ],
)
def test_malformed_vat_number_is_rejected(typed: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validators.normalise_vat_number(typed)
    assert exc.value.code == "invalid_vat"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1234 ABJ", "1234 ABJ"),
        ("1234abj", "1234 ABJ"),
        ("ABJ-1234", "1234 ABJ"),
        ("١٢٣٤ ا ب ح", "1234 ABJ"),  # Arabic digits and letters
        ("ا ب ح 1234", "1234 ABJ"),
        ("أ ب ح ١٢٣٤", "1234 ABJ"),  # hamza form of alif
        ("7 ه", "7 H"),
        ("7 ة", "7 H"),  # taa marbuta is written for haa
        ("12 ى ي", "12 VV"),
        ("5 ص ط ع", "5 XTE"),
    ],
)
def test_plate_in_arabic_or_latin_letters_is_stored_in_latin(typed: str, stored: str) -> None:
    assert validators.normalise_plate(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "1234",  # no letters
        "ABJ",  # no digits
        "12345 ABJ",  # five digits
        "1234 ABJD",  # four letters
        "1234 ABC",  # C is not a plate letter
        "1234 ا ب ث",  # ث is not a plate letter
        "1234 AB!",
    ],
)
def test_plate_that_is_not_a_saudi_plate_is_rejected(typed: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validators.normalise_plate(typed)
    assert exc.value.code == "invalid_plate"


def test_plate_in_arabic_shows_letters_then_digits() -> None:
    assert validators.plate_in_arabic("1234 ABJ") == "ا ب ح 1234"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1HGCM82633A004352", "1HGCM82633A004352"),
        ("1hgcm82633a004352", "1HGCM82633A004352"),
        ("1HGCM826 33A004352", "1HGCM82633A004352"),
        ("11111111111111111", "11111111111111111"),
    ],
)
def test_valid_vin_is_stored_upper_case_without_spaces(typed: str, stored: str) -> None:
    assert validators.normalise_vin(typed) == stored


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("1HGCM82633A00435", "invalid_vin"),  # 16 characters
        ("1HGCM82633A0043521", "invalid_vin"),  # 18 characters
        ("1HGCM82633A00435I", "invalid_vin"),  # I is not used
        ("1HGCM82633A00435O", "invalid_vin"),
        ("1HGCM82633A00435Q", "invalid_vin"),
        ("١HGCM82633A004352", "invalid_vin"),  # an Arabic digit is not a VIN character
        ("1HGCM82653A004352", "invalid_vin_check"),  # check digit 3 changed to 5
    ],
)
def test_malformed_vin_is_rejected(typed: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validators.normalise_vin(typed)
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("validator", "good", "bad"),
    [
        (validators.validate_building_number, ["1234", "١٢٣٤", ""], ["123", "12345", "12a4"]),
        (validators.validate_postal_code, ["12211", "١٢٢١١", ""], ["1221", "122111"]),
        (validators.validate_cr_number, ["1010123456", "١٠١٠١٢٣٤٥٦"], ["101012345", "10101234567"]),
    ],
)
def test_national_address_and_cr_numbers_accept_arabic_digits(validator, good, bad) -> None:
    for value in good:
        validator(value)
    for value in bad:
        with pytest.raises(ValidationError):
            validator(value)


@pytest.mark.parametrize(
    "vin",
    [
        "JTMHV05J604123456",  # Toyota, Japan: position 9 is not a check digit
        "KMHDN41AP5U123456",  # Hyundai, Korea
        "WDB2110421A123456",  # Mercedes-Benz, Germany
    ],
)
def test_vin_from_a_region_without_check_digits_is_accepted(vin: str) -> None:
    assert validators.normalise_vin(vin) == vin


def test_chinese_vin_check_digit_is_checked() -> None:
    with pytest.raises(ValidationError) as raised:
        validators.normalise_vin("LSVAU2180N2123456")
    assert raised.value.code == "invalid_vin_check"
