"""The one comparison of a document we sent with what Qoyod holds of it, shared by credit notes,
expense bills and journal entries: gone, there more than once, or with another total.

The finding's kind and message code are the document's prefix and the outcome, as the kinds
are named: credit_note_missing, bill_duplicate, journal_drift (reconcile.<kind> for the code).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from core.money import to_money
from invoicing.models import Invoice
from qoyod_sync.models import ReconciliationFinding

MISSING, DUPLICATE, DRIFT = "missing", "duplicate", "drift"


def sent_finding(
    *,
    prefix: str,
    number: str,
    qoyod_id: int | None,
    total: Decimal,
    copies: Mapping[int, Decimal],
    invoice: Invoice | None = None,
) -> ReconciliationFinding | None:
    """What is wrong with our document `number`, sent as `qoyod_id` for `total`, given the
    totals of Qoyod's documents that are it (by its id or by our number), or None."""
    params: dict[str, Any] = {"number": number}
    ids: Sequence[int | None]
    if not copies:
        outcome, ids = MISSING, [qoyod_id]
        params["id"] = qoyod_id
    elif len(copies) > 1:
        outcome, ids = DUPLICATE, sorted(copies)
        params |= {
            "count": len(ids),
            "ids": ", ".join(str(i) for i in ids),
            "keep": qoyod_id if qoyod_id in copies else ids[0],
        }
    else:
        ((their_id, theirs),) = copies.items()
        if to_money(theirs) == to_money(total):
            return None
        outcome, ids = DRIFT, [their_id]
        params |= {"ours": str(to_money(total)), "theirs": str(to_money(theirs))}
    return ReconciliationFinding(
        kind=ReconciliationFinding.Kind(f"{prefix}_{outcome}"), invoice=invoice,
        reference=number, qoyod_ids=list(ids), code=f"reconcile.{prefix}_{outcome}",
        params=params,
    )  # fmt: skip


def orphan_finding(
    *, prefix: str, number: str, qoyod_ids: list[int], params: dict[str, Any]
) -> ReconciliationFinding:
    """A Qoyod document carrying our number pattern that no document of ours is."""
    return ReconciliationFinding(
        kind=ReconciliationFinding.Kind(f"{prefix}_orphan"), reference=number,
        qoyod_ids=qoyod_ids, code=f"reconcile.{prefix}_orphan", params=params,
    )  # fmt: skip
