"""Messages stored as a stable code and parameters, put into words when they are shown.

A failure reason, a history note or a read-back summary is written once, by whoever happened to
trigger it, and read later by someone browsing in another language. So a row stores
`Message(code, params)` and the sentence is made with gettext in the reader's language:

    note = Message("invoice.reissue_of", number="INV-2026-000001")
    row.note_code, row.note_params = note.code, note.params
    ...
    render(row.note_code, row.note_params)      # "Reissue of …" or "إعادة إصدار …"

Each app registers its own codes (`register`) in its `messages.py`, loaded by its AppConfig, so
the vocabulary stays with the app that writes it while there is one way to store and show it.

A parameter is a string or number (names, numbers, SKUs: shown as stored), a nested message
(a dict from `Message.as_param()`, rendered in the same language) or a list of nested messages
(joined with the code's `separator`). Qoyod's own words are never a parameter: rows keep them
apart, untranslated, in a `qoyod_message` field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Choices
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

# Rows written before codes existed: their text, kept as it was (code LEGACY, {"text": …}).
LEGACY = "legacy"
# Words a user typed (a void reason): shown as typed, in whatever language they were typed.
USER_TEXT = "user_text"
# Between the items of a list ("mobile, VAT number"); Arabic writes its own comma.
LIST_SEPARATOR = pgettext_lazy("list separator", ", ")


@dataclass(frozen=True)
class Entry:
    text: Promise | str
    # How a list parameter's items are joined.
    separator: Promise | str = "; "
    # Parameters holding a choice's stored value, shown as its label in the reader's language.
    labels: Mapping[str, type[Choices]] = field(default_factory=dict)


_CATALOGUE: dict[str, Entry] = {}


def register(
    code: str,
    text: Promise | str,
    *,
    separator: Promise | str = "; ",
    labels: Mapping[str, type[Choices]] | None = None,
) -> None:
    if code in _CATALOGUE:
        raise ValueError(f"message code {code!r} is registered twice")
    _CATALOGUE[code] = Entry(text, separator, labels or {})


register(LEGACY, "%(text)s")
register(USER_TEXT, "%(text)s")


def _stored(value: Any) -> Any:
    """A parameter as JSON can keep it: decimals as their exact text."""
    if isinstance(value, Message):
        return value.as_param()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_stored(item) for item in value]
    return value


@dataclass(frozen=True, init=False)
class Message:
    """A message to store: its code, its parameters and (kept apart) Qoyod's own words."""

    code: str
    params: dict[str, Any]
    qoyod_message: str = ""

    def __init__(self, code: str, qoyod_message: str = "", **params: Any) -> None:
        if code not in _CATALOGUE:
            raise KeyError(f"unknown message code {code!r}")
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "params", {k: _stored(v) for k, v in params.items()})
        object.__setattr__(self, "qoyod_message", qoyod_message)

    def as_param(self) -> dict[str, Any]:
        return {"code": self.code, "params": self.params}

    def render(self) -> str:
        return render(self.code, self.params)

    def __str__(self) -> str:
        return self.render()


def render(code: str, params: Mapping[str, Any] | None) -> str:
    """The stored message in the active language; "" for no message."""
    if not code:
        return ""
    params = params or {}
    entry = _CATALOGUE.get(code)
    if entry is not None:
        values = {name: _shown(entry, name, value) for name, value in params.items()}
        try:
            # `%` on the lazy text itself, so an ngettext_lazy entry picks its plural.
            return str(entry.text % values)
        except (KeyError, TypeError, ValueError):
            pass  # stored params that no longer fit the sentence (or its translation)
    # Say what is stored rather than nothing, or a broken page.
    return " ".join([code, *(f"{k}={v}" for k, v in params.items())])


def _shown(entry: Entry, name: str, value: Any) -> Any:
    if name in entry.labels:
        try:
            return entry.labels[name](value).label
        except ValueError:
            return value
    if isinstance(value, dict) and "code" in value:
        return render(value["code"], value.get("params"))
    if isinstance(value, list):
        return str(entry.separator).join(str(_shown(entry, name, item)) for item in value)
    return value
