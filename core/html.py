"""Markup built in Python, for the parts of pages drawn many times a page (the invoice list's
rows), by the templates' rules: translated text is trusted as {% translate %} and
{% blocktranslate %} trust it, and only the values put into it are escaped."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext


def trans(message: str) -> SafeString:
    """{% translate message %}. Imported as _, so makemessages finds the strings."""
    return mark_safe(gettext(message))  # noqa: S308 - our catalogue's text


def sentence(text: str, **values: Any) -> SafeString:
    """{% blocktranslate %}: `text` (translated) with its values localized and escaped."""
    escaped = {name: conditional_escape(localize(value)) for name, value in values.items()}
    return mark_safe(text % escaped)  # noqa: S308 - the values are escaped, the text is ours


def joined(parts: Iterable[SafeString], separator: str = "\n") -> SafeString:
    return mark_safe(separator.join(parts))  # noqa: S308 - every part is already safe


def escaped(value: Any) -> str:
    """conditional_escape, as plain text: a lazy text is read first; what renders itself
    (__html__) is taken as it is; anything else is escaped."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def markup(template: str, *values: Any) -> SafeString:
    """format_html, for the parts drawn many times a page: the same escaping, without
    format_html's check of every value for a lazy translation, which costs three times the
    formatting."""
    return SafeString(template.format(*map(escaped, values)))
