"""The fault matrix as a Markdown table: every request of a send x every fault kind, then Retry.

    .venv/bin/python bench/fault_matrix.py [-- extra pytest arguments]

Runs tests/qoyod_sync/test_fault_matrix.py (the same cells, the same sandbox over loopback, on the
database DATABASE_URL names) and prints, for each cell, the state the row showed after the fault
and, after Retry, the counts in Qoyod: drafts / customers / products per SKU (and, for the stock
row, inventory adjustments), with the number of Retry presses. A cell whose assertions failed is
marked FAIL. Then the wall time of the whole matrix.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE = "tests/qoyod_sync/test_fault_matrix.py"


class Collector:
    def __init__(self) -> None:
        self.cells: dict[tuple[str, str], dict[str, Any]] = {}
        self.failed: set[tuple[str, str]] = set()
        self.errors: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        cell = dict(report.user_properties).get("cell")
        if report.when == "call" and cell is not None:
            key = (cell["request"], cell["fault"])
            self.cells[key] = cell
            if report.failed:
                self.failed.add(key)
        elif report.failed:
            self.errors.append(f"{report.nodeid} ({report.when})")


def main() -> None:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    collector = Collector()
    started = time.monotonic()
    pytest.main([MODULE, "-q", "-p", "no:cacheprovider", "--no-header", *sys.argv[1:]],
                plugins=[collector])  # fmt: skip
    elapsed = time.monotonic() - started

    from tests.qoyod_sync.test_fault_matrix import FAULTS, REQUESTS

    print()
    print("| request | " + " | ".join(FAULTS) + " |")
    print("|---|" + "---|" * len(FAULTS))
    for request in REQUESTS:
        row = [_cell(collector, request, fault) for fault in FAULTS]
        print(f"| {request} | " + " | ".join(row) + " |")
    print()
    print("Cell: state shown after the fault → drafts/customers/products per SKU after Retry")
    print("(stock row: + inventory adjustments), ×N = Retry presses.")
    passed = len(collector.cells) - len(collector.failed)
    print(f"{passed} of {len(REQUESTS) * len(FAULTS)} cells exactly once; matrix ran in "
          f"{elapsed:.1f} s.")  # fmt: skip
    for error in collector.errors:
        print(f"error: {error}")


def _cell(collector: Collector, request: str, fault: str) -> str:
    cell = collector.cells.get((request, fault))
    if cell is None:
        return "not run"
    products = "/".join(str(n) for n in sorted(set(cell["products"])))
    counts = f"{cell['drafts']}/{cell['customers']}/{products}"
    if request == "stock adjustment":
        counts += f" + {cell['adjustments']}"
    mark = " **FAIL**" if (request, fault) in collector.failed else ""
    return f"{cell['shown']} → {counts} ×{cell['presses']}{mark}"


if __name__ == "__main__":
    main()
