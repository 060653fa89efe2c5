"""The one home of the rules a transaction's values and receipt files must meet.

Forms call these to show the refusal beside the field; services call them again before writing,
so nothing reaches the database that a form would have refused.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import IO

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

# Receipts are recognised by their first bytes, whatever their name says. Four formats, each a
# fixed signature (HEIC: an ISO-BMFF "ftyp" box with a HEIF brand), so no library is needed.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
RECEIPT_TYPES = ("image/jpeg", "image/png", "image/heic", "application/pdf")


def receipt_content_type(head: bytes) -> str | None:
    """The receipt's type read from its first 16 bytes, or None if it is none of ours."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def receipt_check(*, file: IO[bytes], size: int, name: str) -> str:
    """The file's content type; ValueError with the reason if it cannot be a receipt."""
    if size > settings.RECEIPT_MAX_BYTES:
        raise ValueError(
            _("%(name)s is larger than %(limit)s: take the photo again at a lower resolution.")
            % {"name": name, "limit": filesizeformat(settings.RECEIPT_MAX_BYTES)}
        )
    position = file.tell()
    head = file.read(16)
    file.seek(position)
    content_type = receipt_content_type(head)
    if content_type is None:
        raise ValueError(
            _("%(name)s is not a JPEG, PNG or HEIC photo or a PDF: a receipt must be one of those.")
            % {"name": name}
        )
    return content_type


def amount_refusals(*, amount: Decimal, vat_amount: Decimal) -> dict[str, str]:
    """Field → why the amounts are refused (empty when they are fine)."""
    refusals = {}
    if amount <= 0:
        refusals["amount"] = _("The amount must be more than zero.")
    if vat_amount < 0:
        refusals["vat_amount"] = _("The VAT amount cannot be negative.")
    elif amount > 0 and vat_amount > amount:
        refusals["vat_amount"] = _("The VAT amount cannot be larger than the amount.")
    return refusals


def date_latest() -> datetime.date:
    """The latest date a transaction may carry."""
    return timezone.localdate() + datetime.timedelta(days=settings.TRANSACTION_MAX_DAYS_AHEAD)


def date_refusal(*, date: datetime.date) -> str | None:
    """Why the date is refused, or None."""
    latest = date_latest()
    if date > latest:
        return _("The date cannot be after %(latest)s.") % {"latest": latest.isoformat()}
    return None
