from __future__ import annotations

import pytest
from django.db import transaction

from core.models import Sequence
from core.numbering import sequence_next

pytestmark = pytest.mark.django_db


def _next(name: str, year: int) -> int:
    with transaction.atomic():
        return sequence_next(name=name, year=year)


def test_each_name_and_year_counts_on_its_own():
    numbers = [_next("job", 2026), _next("job", 2026), _next("invoice", 2026), _next("job", 2027)]

    assert numbers == [1, 2, 1, 1]
    assert sorted(Sequence.objects.values_list("name", "year", "last_value")) == [
        ("invoice", 2026, 1),
        ("job", 2026, 2),
        ("job", 2027, 1),
    ]


def test_a_rolled_back_number_is_handed_out_again():
    _next("invoice", 2026)

    with pytest.raises(RuntimeError), transaction.atomic():
        assert sequence_next(name="invoice", year=2026) == 2
        raise RuntimeError("the invoice was not saved")

    assert _next("invoice", 2026) == 2


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses_and_counts_nothing():
    with pytest.raises(AssertionError, match="needs a transaction"):
        sequence_next(name="invoice", year=2026)

    assert Sequence.objects.count() == 0


def test_counters_keep_the_table_they_had_in_garage():
    assert Sequence._meta.db_table == "garage_sequence"
