"""Reading Qoyod's JSON into frozen dataclasses: one from_json for every record in types.py.

Each field is read from the key of its name by the converter READERS gives its type; a record
class's QOYOD table names the exceptions (another key, another converter, a required key). The
converters absorb Qoyod's quirks: numbers as strings, "" for null, 0/1 for booleans. A shape
they cannot read raises ValueError/KeyError/TypeError; the client turns that into a typed
Qoyod error.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Self

from core.money import to_decimal

Json = Mapping[str, Any]
Read = Callable[[Any], Any]


def optional_amount(value: Any) -> Decimal | None:
    # Amounts arrive as strings ("80.5") or numbers (qoyod-api.md §15.3); the client decodes
    # with parse_float=Decimal, so no float ever reaches to_decimal, which would refuse it.
    return None if value is None or value == "" else to_decimal(value)


def amount_or_zero(value: Any) -> Decimal:
    return optional_amount(value) or Decimal("0")


def optional_date(value: Any) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value)[:10])


def timestamp(value: Any) -> datetime | None:
    # Bookkeeping metadata only: an unexpected format must not make the record unreadable.
    try:
        return None if value in (None, "") else datetime.fromisoformat(str(value))
    except ValueError:
        return None


def text(value: Any) -> str:
    return "" if value is None else str(value)


def optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def flag(value: Any) -> bool:
    # track_quantity arrives as 0/1, "0"/"1" or a boolean (qoyod-api.md §1.4).
    return value in (True, 1, "1", "true", "True")


# How a value of each field type is read, and whether its key must be present: a record
# without its id or one of its amounts is unreadable, any other field may be missing.
READERS: dict[Any, tuple[Read, bool]] = {
    int: (int, True),
    Decimal: (to_decimal, True),
    str: (text, False),
    bool: (bool, False),
    int | None: (optional_int, False),
    Decimal | None: (optional_amount, False),
    date | None: (optional_date, False),
    datetime | None: (timestamp, False),
}


@dataclass(frozen=True)
class From:
    """A field's exception to the defaults: another JSON key, converter or presence rule."""

    key: str | None = None
    # A converter of the field's own receives None for an absent key, unless `required`.
    read: Read | None = None
    required: bool | None = None


class Record:
    """A Qoyod object read field by field as its dataclass and QOYOD table declare."""

    QOYOD: ClassVar[Mapping[str, From]] = {}

    @classmethod
    def from_json(cls, data: Json) -> Self:
        if not isinstance(data, Mapping):
            raise TypeError(f"expected an object for {cls.__name__}")
        return cls(**{name: read(data) for name, read in _field_readers(cls).items()})


FieldReaders = dict[str, Callable[[Json], Any]]
# Worked out once per record class, on its first use (a race only computes the same twice).
_field_readers_of: dict[type[Record], FieldReaders] = {}


def _field_readers(cls: type[Record]) -> FieldReaders:
    readers = _field_readers_of.get(cls)
    if readers is None:
        hints = typing.get_type_hints(cls)
        readers = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            source = cls.QOYOD.get(f.name, From())
            read, required = (source.read, False) if source.read else _reader_for(hints[f.name])
            if source.required is not None:
                required = source.required
            readers[f.name] = _from_key(source.key or f.name, read, required)
        _field_readers_of[cls] = readers
    return readers


def _reader_for(hint: Any) -> tuple[Read, bool]:
    if hint in READERS:
        return READERS[hint]
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and args[1:] == (Ellipsis,):
        # A list of nested objects (or of texts), absent or null meaning none.
        item = (
            args[0].from_json if isinstance(args[0], type) and issubclass(args[0], Record) else str
        )
        return (lambda rows: tuple(item(row) for row in rows or ())), False
    nested = [a for a in args if isinstance(a, type) and issubclass(a, Record)]
    if len(args) == 2 and type(None) in args and nested:
        # A nested object that Qoyod sends as null (or {}) when there is none.
        return (lambda value: nested[0].from_json(value) if value else None), False
    raise TypeError(f"no Qoyod reader for {hint!r}")


def _from_key(key: str, read: Read, required: bool) -> Callable[[Json], Any]:
    if required:
        return lambda data: read(data[key])
    return lambda data: read(data.get(key))
