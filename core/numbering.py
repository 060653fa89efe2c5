"""Gap-free yearly numbers for job cards and invoices (ZATCA wants invoice numbers unbroken)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from core.models import Sequence


def sequence_next(*, name: str, year: int) -> int:
    """Next number of a gap-free yearly sequence; call inside the transaction that uses it."""
    # A rolled-back transaction takes its increment with it, which is what keeps the gaps out.
    assert transaction.get_connection().in_atomic_block, "sequence_next needs a transaction"
    Sequence.objects.get_or_create(name=name, year=year)
    seq = Sequence.objects.select_for_update().get(name=name, year=year)
    seq.last_value = F("last_value") + 1
    seq.save(update_fields=["last_value"])
    seq.refresh_from_db(fields=["last_value"])
    return seq.last_value


def sequence_take(*, name: str, year: int, count: int) -> int:
    """Reserve `count` consecutive numbers of a gap-free yearly sequence; returns the first."""
    assert transaction.get_connection().in_atomic_block, "sequence_take needs a transaction"
    assert count > 0
    Sequence.objects.get_or_create(name=name, year=year)
    seq = Sequence.objects.select_for_update().get(name=name, year=year)
    seq.last_value = F("last_value") + count
    seq.save(update_fields=["last_value"])
    seq.refresh_from_db(fields=["last_value"])
    return seq.last_value - count + 1
