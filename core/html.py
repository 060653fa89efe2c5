"""Markup built in Python, for the parts of pages drawn many times a page (the invoice list's
rows), by the templates' rules: translated text is trusted as {% translate %} and
{% blocktranslate %} trust it, and only the values put into it are escaped."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.formats import localize
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
