from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from invoicing.zatca import zatca_qr_base64, zatca_qr_svg, zatca_tlv_decode

RIYADH = timezone(timedelta(hours=3))


def _payload(**overrides):
    fields = {
        "seller_name": "Bobs Records",
        "vat_number": "310122393500003",
        "timestamp": datetime(2022, 4, 25, 15, 30, tzinfo=UTC),
        "total": Decimal("1000.00"),
        "vat_total": Decimal("150.00"),
    }
    fields.update(overrides)
    return zatca_qr_base64(**fields)


def test_known_vector_matches_published_example():
    assert _payload() == (
        "AQxCb2JzIFJlY29yZHMCDzMxMDEyMjM5MzUwMDAwMwMUMjAyMi0wNC0yNVQxNTozMDowMFoEBzEwMDAuMDAF"
        "BjE1MC4wMA=="
    )


def test_exact_bytes_of_a_small_example():
    payload = zatca_qr_base64(
        seller_name="AB",
        vat_number="3",
        timestamp=datetime(2026, 11, 21, 10, 15, tzinfo=UTC),
        total=Decimal("1.15"),
        vat_total=Decimal("0.15"),
    )
    assert base64.b64decode(payload) == (
        b"\x01\x02AB\x02\x013\x03\x142026-11-21T10:15:00Z\x04\x041.15\x05\x040.15"
    )
    assert zatca_tlv_decode(payload) == {
        1: "AB",
        2: "3",
        3: "2026-11-21T10:15:00Z",
        4: "1.15",
        5: "0.15",
    }


def test_arabic_seller_name_length_counts_utf8_bytes():
    name = "ورشة الخليج"
    raw = base64.b64decode(_payload(seller_name=name))
    assert raw[0] == 1
    assert raw[1] == len(name.encode("utf-8")) == 21
    assert zatca_tlv_decode(_payload(seller_name=name))[1] == name


def test_amounts_are_written_with_two_decimals():
    decoded = zatca_tlv_decode(_payload(total=Decimal("115"), vat_total=Decimal("14.995")))
    assert decoded[4] == "115.00"
    assert decoded[5] == "15.00"


def test_timestamp_is_stated_in_utc():
    local = datetime(2026, 11, 21, 13, 15, 42, 123456, tzinfo=RIYADH)
    assert zatca_tlv_decode(_payload(timestamp=local))[3] == "2026-11-21T10:15:42Z"


def test_naive_timestamp_is_rejected():
    with pytest.raises(ValueError, match="timezone"):
        _payload(timestamp=datetime(2026, 11, 21, 10, 15))


def test_value_of_255_bytes_fits_and_256_is_rejected():
    assert zatca_tlv_decode(_payload(seller_name="x" * 255))[1] == "x" * 255
    with pytest.raises(ValueError, match="256 bytes"):
        _payload(seller_name="x" * 256)
    # 128 Arabic letters are 256 bytes although only 128 characters.
    with pytest.raises(ValueError, match="256 bytes"):
        _payload(seller_name="ب" * 128)


def test_empty_value_is_rejected():
    with pytest.raises(ValueError, match="tag 2"):
        _payload(vat_number="")


def test_float_amount_is_rejected():
    with pytest.raises(TypeError):
        _payload(total=1000.0)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not base64!", "base64"),
        (base64.b64encode(b"\x01").decode(), "truncated"),
        (base64.b64encode(b"\x01\x05AB").decode(), "claims 5 bytes"),
        (base64.b64encode(b"\x01\x01A\x01\x01B").decode(), "twice"),
    ],
)
def test_decode_rejects_malformed_payloads(payload, message):
    with pytest.raises(ValueError, match=message):
        zatca_tlv_decode(payload)


def test_svg_is_an_inline_element():
    svg = zatca_qr_svg(_payload())
    # Sized by its viewBox alone, so the print stylesheet can set it in millimetres.
    assert svg.startswith('<svg viewBox="0 0 ')
    assert "width=" not in svg[: svg.index(">")]
    assert svg.endswith("</svg>")
    assert "<?xml" not in svg
    assert "<path" in svg


def test_svg_depends_on_the_payload():
    assert zatca_qr_svg(_payload()) != zatca_qr_svg(_payload(total=Decimal("1000.01")))
