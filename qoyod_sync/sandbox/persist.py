"""The sandbox's companies in a JSON file, so a restart of the demo keeps its books.

Everything a company holds is kept (customers, products, stock, documents, the chart, journal
entries, adjustments, its id counters and settings); faults, held requests and the request log
are not, as they belong to a run. Keys are kept as digests only (server.key_digest).

The file is replaced whole after each successful write: written beside it under a temporary
name, flushed to disk, then renamed over it, so a crash leaves the old file or the new one.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qoyod_sync.sandbox.company import Company

if TYPE_CHECKING:
    from qoyod_sync.sandbox.server import SandboxState

VERSION = 1
_PACKAGE = "qoyod_sync.sandbox."
# Set per run (the sandbox's options), not part of the books.
_NOT_KEPT = frozenset({"lock", "opening_stock"})


class StateFileError(Exception):
    """The state file cannot be read back; the message says which file and why."""


def save(state: SandboxState, path: Path) -> None:
    """Write every company to `path` atomically. The caller holds state.lock."""
    data = {
        "version": VERSION,
        "companies": [
            {"key_digest": digest, "company": _encode(_kept(company))}
            for digest, company in state.keyed_companies()
        ],
        "revoked": sorted(state.revoked_digests()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(state: SandboxState, path: Path) -> None:
    """Fill an empty state from `path`; a missing file leaves it empty."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    try:
        data = json.loads(raw)
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {VERSION}")
        for entry in data["companies"]:
            attributes = _decode(entry["company"])
            company = Company(
                number=attributes["number"],
                key_hint=attributes["key_hint"],
                lock=state.lock,
                opening_stock=state.opening_stock,
            )
            # Over the seeded company, so a field added to Company since keeps its seed.
            for name, value in attributes.items():
                setattr(company, name, value)
            state.adopt(entry["key_digest"], company)
        state.revoke_digests(data["revoked"])
    except (ValueError, KeyError, TypeError, AttributeError, ImportError) as error:
        raise StateFileError(
            f"cannot read the sandbox state in {path} ({error}); move it away to start afresh"
        ) from error


def _kept(company: Company) -> dict[str, Any]:
    return {name: value for name, value in vars(company).items() if name not in _NOT_KEPT}


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [_encode(item) for item in value]}
    if isinstance(value, dict):
        return {"$dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = type(value)
        return {
            "$record": f"{kind.__module__}:{kind.__qualname__}",
            "fields": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    raise TypeError(f"the sandbox cannot keep a {type(value).__name__} in its state file")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$decimal" in value:
        return Decimal(value["$decimal"])
    if "$tuple" in value:
        return tuple(_decode(item) for item in value["$tuple"])
    if "$dict" in value:
        return {_decode(k): _decode(v) for k, v in value["$dict"]}
    if "$record" in value:
        return _record_class(value["$record"])(
            **{name: _decode(item) for name, item in value["fields"].items()}
        )
    raise ValueError(f"unexpected object {sorted(value)}")


def _record_class(name: str) -> type:
    # Only the sandbox's own records: the file never names arbitrary code to run.
    module, _, qualname = name.partition(":")
    if not module.startswith(_PACKAGE):
        raise ValueError(f"record type {name} is not the sandbox's")
    kind = getattr(importlib.import_module(module), qualname)
    if not (isinstance(kind, type) and dataclasses.is_dataclass(kind)):
        raise ValueError(f"{name} is not a record type")
    return kind
