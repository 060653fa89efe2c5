"""Arabic-Indic digits and the Arabic letters of Saudi plates, read the same way by every app."""

from __future__ import annotations

# Arabic-Indic and Eastern Arabic-Indic digits are common on Arabic keyboards.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

# The 17 Arabic letters used on Saudi plates and their official Latin counterparts.
PLATE_AR_TO_LATIN = {
    "ا": "A", "أ": "A", "إ": "A", "آ": "A",
    "ب": "B",
    "ح": "J",
    "د": "D",
    "ر": "R",
    "س": "S",
    "ص": "X",
    "ط": "T",
    "ع": "E",
    "ق": "G",
    "ك": "K",
    "ل": "L",
    "م": "Z",
    "ن": "N",
    "ه": "H", "ة": "H",
    "و": "U",
    "ى": "V", "ي": "V",
}  # fmt: skip
PLATE_LATIN_TO_AR = {
    "A": "ا", "B": "ب", "J": "ح", "D": "د", "R": "ر", "S": "س", "X": "ص", "T": "ط", "E": "ع",
    "G": "ق", "K": "ك", "L": "ل", "Z": "م", "N": "ن", "H": "ه", "U": "و", "V": "ى",
}  # fmt: skip


def to_ascii_digits(value: str) -> str:
    return value.translate(_DIGITS)


def plate_search_key(value: str) -> str:
    """Best-effort key for searching: a partial plate in either script, no spaces."""
    text = to_ascii_digits(value or "").upper()
    return "".join(
        PLATE_AR_TO_LATIN.get(c, c) for c in text if c.isalnum() or c in PLATE_AR_TO_LATIN
    )


def isolate(text: str) -> str:
    """The text between first-strong isolate marks: it takes the direction of its own letters."""
    return f"\u2068{text}\u2069"


def ltr_isolate(text: str) -> str:
    """The text between Unicode's left-to-right isolate marks, for places that take no markup.

    An <option> or a title="" cannot hold <bdi>; the marks keep a plate or a number in its order
    on an Arabic page the same way (templates use the `ltr` filter where markup is allowed).
    """
    return f"\u2066{text}\u2069"
