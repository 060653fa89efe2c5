"""What a search box's text can mean besides a name: a mobile, a VAT number or a plate.

`search_fragments` reads the text once for every list (jobs, customers, vehicles, invoices), so
the pages agree on what "0551 23" or "ا ب ح ١٢٣٤" finds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Model, Q, QuerySet
from django.db.models.constants import LOOKUP_SEP

from core.arabic import PLATE_LATIN_TO_AR, plate_search_key, to_ascii_digits

M = TypeVar("M", bound=Model)

# A number as people type one: digits with spaces, +, brackets, dashes or dots between them.
_NUMBER_CHARACTERS = re.compile(r"[\d\s+()\-.]+")
# Shorter digit strings match too many phone and VAT numbers to be useful.
MIN_NUMBER_DIGITS = 3


@dataclass(frozen=True)
class SearchFragments:
    """The normalised forms to look for; '' where the text cannot be that kind of value."""

    # The national part of a mobile, as stored after +966.
    phone: str
    # The digits of a (partial) VAT number.
    vat: str
    # A (partial) plate as in Vehicle.plate_key: digits then Latin letters, no space.
    plate_key: str
    # The same plate as plates are printed and snapshotted on invoices: "1234 ABJ".
    plate: str


def searchable(text: str) -> str:
    """`text` without NUL characters and surrounding space.

    No column holds a NUL (PostgreSQL cannot store one and refuses it in a query), so dropping
    it searches for what the user sees they typed instead of failing the page.
    """
    return text.replace("\x00", "").strip()


def search_fragments(text: str) -> SearchFragments:
    """Read `text` as a mobile, a VAT number and a plate, each only where it can be one."""
    text = searchable(text)
    plate_key, plate = _plate(text)
    return SearchFragments(phone=_phone(text), vat=_vat(text), plate_key=plate_key, plate=plate)


def _number_digits(text: str) -> str:
    # Text with letters is no number: the digits of a plate ("ا ب ح ٥٩٦") must not also match
    # every mobile and VAT number that contains them.
    text = to_ascii_digits(text.strip())
    if not _NUMBER_CHARACTERS.fullmatch(text):
        return ""
    return re.sub(r"\D", "", text)


def _phone(text: str) -> str:
    digits = _number_digits(text)
    for prefix in ("00966", "966", "0"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    return digits if len(digits) >= MIN_NUMBER_DIGITS else ""


def _vat(text: str) -> str:
    digits = _number_digits(text)
    return digits if len(digits) >= MIN_NUMBER_DIGITS else ""


def _plate(text: str) -> tuple[str, str]:
    key = plate_search_key(text)
    digits = "".join(c for c in key if c.isdigit())
    letters = "".join(c for c in key if not c.isdigit())
    if (
        not key
        or len(digits) > 4
        or len(letters) > 3
        or any(c not in PLATE_LATIN_TO_AR for c in letters)
    ):
        return "", ""
    # Arabic plates are read letters first ("ا ب ١٢٣٤"); both stored forms put digits first.
    printed = f"{digits} {letters}" if digits and letters else digits or letters
    return digits + letters, printed


def search_terms(
    text: str,
    *,
    fields: Sequence[str],
    phone: str | None = None,
    vat: str | None = None,
    plate_key: str | None = None,
    plate: str | None = None,
) -> list[Q]:
    """The lookups that make sense for `text`, one Q each: substring on `fields`, and the given
    phone, VAT, plate-key and printed-plate paths matched on their normalised forms."""
    text = searchable(text)
    terms = [Q(**{f"{field}__icontains": text}) for field in fields]
    fragments = search_fragments(text)
    for path, fragment, lookup in (
        (phone, fragments.phone, "contains"),
        (vat, fragments.vat, "contains"),
        (plate_key, fragments.plate_key, "icontains"),
        (plate, fragments.plate, "icontains"),
    ):
        if path and fragment:
            terms.append(Q(**{f"{path}__{lookup}": fragment}))
    return terms


def search_q(
    text: str,
    *,
    fields: Sequence[str],
    phone: str | None = None,
    vat: str | None = None,
    plate_key: str | None = None,
    plate: str | None = None,
) -> Q:
    """OR of `search_terms`: for lookups on the model's own columns (and the admin)."""
    q = Q()
    for term in search_terms(
        text, fields=fields, phone=phone, vat=vat, plate_key=plate_key, plate=plate
    ):
        q |= term
    return q


def search_filter(
    queryset: QuerySet[M],
    text: str,
    *,
    fields: Sequence[str],
    phone: str | None = None,
    vat: str | None = None,
    plate_key: str | None = None,
    plate: str | None = None,
) -> QuerySet[M]:
    """`queryset` narrowed to the rows `text` finds, each lookup able to use its own index.

    On the model's own columns the lookups are ORed: PostgreSQL combines the trigram indexes
    (search_indexes) in one bitmap. An OR across a join cannot use an index on either side, so
    when a lookup crosses a relation every lookup becomes its own indexed query of primary keys
    and the page reads the UNION of them.
    """
    terms = search_terms(
        text, fields=fields, phone=phone, vat=vat, plate_key=plate_key, plate=plate
    )
    if not any(_crosses_relation(term) for term in terms):
        q = Q()
        for term in terms:
            q |= term
        return queryset.filter(q)
    manager = queryset.model._default_manager
    first, *rest = (manager.filter(term).order_by().values("pk") for term in terms)
    return queryset.filter(pk__in=first.union(*rest) if rest else first)


def _crosses_relation(term: Q) -> bool:
    return any(
        LOOKUP_SEP in child[0].rsplit(LOOKUP_SEP, 1)[0]
        for child in term.children
        if isinstance(child, tuple)
    )
