"""ZATCA phase 1 QR code for simplified tax invoices: a base64 TLV payload and its SVG."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from decimal import Decimal

import segno

from core.money import to_money

SELLER_NAME = 1
VAT_NUMBER = 2
TIMESTAMP = 3
TOTAL_WITH_VAT = 4
VAT_TOTAL = 5

# Tag and length are one byte each, so no value may exceed 255 bytes.
_MAX_VALUE_BYTES = 255


def zatca_qr_base64(
    *,
    seller_name: str,
    vat_number: str,
    timestamp: datetime,
    total: Decimal,
    vat_total: Decimal,
) -> str:
    """Return the base64 TLV payload of a simplified invoice's QR code."""
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware so it can be stated in UTC")
    fields = {
        SELLER_NAME: seller_name,
        VAT_NUMBER: vat_number,
        TIMESTAMP: timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        TOTAL_WITH_VAT: f"{to_money(total):f}",
        VAT_TOTAL: f"{to_money(vat_total):f}",
    }
    payload = bytearray()
    for tag, value in fields.items():
        if not value:
            raise ValueError(f"ZATCA QR tag {tag} needs a value")
        encoded = value.encode("utf-8")
        if len(encoded) > _MAX_VALUE_BYTES:
            raise ValueError(
                f"ZATCA QR tag {tag} is {len(encoded)} bytes in UTF-8; at most 255 fit"
            )
        payload += bytes((tag, len(encoded))) + encoded
    return base64.b64encode(bytes(payload)).decode("ascii")


def zatca_tlv_decode(b64: str) -> dict[int, str]:
    """Decode a base64 TLV payload into its values by tag."""
    try:
        data = base64.b64decode(b64, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None
    fields: dict[int, str] = {}
    position = 0
    while position < len(data):
        if position + 2 > len(data):
            raise ValueError(f"truncated TLV header at byte {position}")
        tag, length = data[position], data[position + 1]
        start, end = position + 2, position + 2 + length
        if end > len(data):
            raise ValueError(
                f"TLV tag {tag} claims {length} bytes but only {len(data) - start} remain"
            )
        if tag in fields:
            raise ValueError(f"TLV tag {tag} appears twice")
        fields[tag] = data[start:end].decode("utf-8")
        position = end
    return fields


def zatca_qr_svg(payload: str) -> str:
    """Render a QR payload as an inline SVG element for the printable invoice."""
    # Level M survives print smudges while keeping the code small enough for a receipt.
    qr = segno.make(payload, error="m", micro=False)
    # No fixed pixel size: the viewBox lets the print stylesheet size the code in millimetres.
    return qr.svg_inline(scale=4, border=4, title="ZATCA QR code", omitsize=True)
