"""Saudi formats: mobile numbers, VAT numbers, plates, VINs, national address parts.

Each `normalise_*` returns the stored form or raises ValidationError with a translated message,
so forms, services and the API reject the same input the same way.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.arabic import PLATE_AR_TO_LATIN, PLATE_LATIN_TO_AR, to_ascii_digits

_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def normalise_phone(value: str) -> str:
    """Saudi mobile number in any common spelling -> +9665XXXXXXXX."""
    digits = re.sub(r"[\s\-().]", "", to_ascii_digits(value or ""))
    for prefix in ("+966", "00966", "966"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    if digits.startswith("0"):
        digits = digits[1:]
    if not re.fullmatch(r"5\d{8}", digits):
        raise ValidationError(
            _("Enter a Saudi mobile number such as 05X XXX XXXX or +966 5X XXX XXXX."),
            code="invalid_phone",
        )
    return "+966" + digits


def normalise_vat_number(value: str) -> str:
    """15 digits, first and last digit 3 (ZATCA)."""
    digits = re.sub(r"\s", "", to_ascii_digits(value or ""))
    if not re.fullmatch(r"3\d{13}3", digits):
        raise ValidationError(
            _("A VAT number has 15 digits and starts and ends with 3."), code="invalid_vat"
        )
    return digits


def normalise_plate(value: str) -> str:
    """A plate typed in Arabic or Latin letters -> '1234 ABJ' (digits, space, Latin letters)."""
    text = to_ascii_digits(value or "").upper()
    digits, letters = [], []
    for char in text:
        if char.isspace() or char in "-_/.":
            continue
        if char.isdigit():
            digits.append(char)
        elif char in PLATE_AR_TO_LATIN:
            letters.append(PLATE_AR_TO_LATIN[char])
        elif char in PLATE_LATIN_TO_AR:
            letters.append(char)
        else:
            raise ValidationError(
                _("“%(char)s” is not used on Saudi plates.") % {"char": char},
                code="invalid_plate",
            )
    if not (1 <= len(digits) <= 4 and 1 <= len(letters) <= 3):
        raise ValidationError(
            _("A Saudi plate has up to four digits and up to three letters, e.g. 1234 ABJ."),
            code="invalid_plate",
        )
    return "".join(digits) + " " + "".join(letters)


def plate_in_arabic(plate: str) -> str:
    digits, _sep, letters = plate.partition(" ")
    return " ".join(PLATE_LATIN_TO_AR.get(c, c) for c in letters) + " " + digits


def normalise_vin(value: str) -> str:
    """17 characters, no I/O/Q; the check digit in position 9 where the maker's region uses it."""
    vin = re.sub(r"\s", "", (value or "")).upper()
    if not re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", vin):
        raise ValidationError(
            _("A VIN has 17 letters and digits, without I, O or Q."), code="invalid_vin"
        )
    # ISO 3779 makes position 9 a check digit only for North American (1-5) and Chinese (L)
    # makers; Japanese, Korean and European VINs, common in Saudi Arabia, put other data there.
    if vin[0] not in "12345L":
        return vin
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    check = "X" if total % 11 == 10 else str(total % 11)
    if vin[8] != check:
        raise ValidationError(
            _("This VIN's check digit does not match; please check it for a typing mistake."),
            code="invalid_vin_check",
        )
    return vin


def validate_building_number(value: str) -> None:
    if value and not re.fullmatch(r"\d{4}", to_ascii_digits(value)):
        raise ValidationError(_("A building number has 4 digits."), code="invalid_building")


def validate_postal_code(value: str) -> None:
    if value and not re.fullmatch(r"\d{5}", to_ascii_digits(value)):
        raise ValidationError(_("A postal code has 5 digits."), code="invalid_postal_code")


def validate_cr_number(value: str) -> None:
    if value and not re.fullmatch(r"\d{10}", to_ascii_digits(value)):
        raise ValidationError(
            _("A commercial registration number has 10 digits."), code="invalid_cr"
        )
