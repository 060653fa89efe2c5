"""Send on WhatsApp without a WhatsApp Business account: a wa.me link that opens the chat with
the customer's mobile and a bilingual message carrying the signed link to the invoice."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from core.money import to_money
from invoicing.models import Invoice


def whatsapp_message(*, invoice: Invoice, link: str) -> str:
    """English then Arabic, whatever the sender's language: the customer reads either."""
    params = {
        "number": invoice.number,
        "seller": settings.SELLER_NAME,
        "total": str(to_money(invoice.total)),
        "link": link,
    }
    lines = []
    for language in ("en", "ar"):
        with translation.override(language):
            lines.append(
                gettext("Your invoice %(number)s from %(seller)s, %(total)s SAR: %(link)s") % params
            )
    return "\n\n".join(lines)


def whatsapp_url(*, invoice: Invoice, link: str) -> str:
    # wa.me takes the number in international form, digits only (+966 5… → 9665…).
    digits = "".join(ch for ch in invoice.customer_phone if ch.isdigit())
    return f"https://wa.me/{digits}?text={quote(whatsapp_message(invoice=invoice, link=link))}"
