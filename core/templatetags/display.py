"""How numbers and values that must read left to right appear on every page.

Registered as a builtin (settings TEMPLATES), so no template loads it: `qty` and `money` give the
text, `ltr` isolates a value from the page's right-to-left flow.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

from core.arabic import ltr_isolate
from core.money import money_text, plain_text

register = template.Library()


@register.filter
def qty(value: Decimal | int | str | None) -> str:
    """A quantity or stock level without exponent or trailing zeros: 20, 1.5."""
    if value is None or value == "":
        return ""
    return plain_text(value)


@register.filter
def money(value: Decimal | int | str | None) -> str:
    """An amount with two places: 115.00."""
    if value is None or value == "":
        return ""
    return money_text(value)


@register.filter(is_safe=True)
def ltr(value: Any) -> SafeString:
    """The value in its own left-to-right isolate.

    On an Arabic page the bidi algorithm would otherwise show the plate 5678 DRS as DRS 5678,
    -1 as 1-, and 03/12/2026 14:05 as 14:05 03/12/2026; <bdi> also keeps the value from
    reordering the words around it.
    """
    if value is None or value == "":
        return SafeString("")
    # format_html's work done directly: the list calls this five times a row.
    return SafeString(f'<bdi dir="ltr">{conditional_escape(value)}</bdi>')


@register.filter
def ltr_text(value: Any) -> str:
    """`ltr` for places that take no markup: an <option>, a title="", a plain-text email."""
    if value is None or value == "":
        return ""
    return ltr_isolate(str(value))


@register.filter
def signed(value: str) -> str:
    """A formatted number with its sign always shown: +0.01, -0.01 (0 stays unsigned)."""
    if not value or value.startswith("-") or not Decimal(value):
        return value
    return f"+{value}"
