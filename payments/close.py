"""The daily close of a branch (issue 14 §4): what the counter collected beside what Qoyod shows
as received, for one day. Reads only our own rows: the Qoyod side is the last read-back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from core.money import to_money
from garage.models import Branch
from payments.models import Payment, QoyodAllocation

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class DailyClose:
    branch: Branch
    day: date
    counter: tuple[tuple[str, Decimal], ...]  # (method label, amount), every method listed
    counter_total: Decimal
    qoyod_received: Decimal
    difference: Decimal  # counter minus Qoyod


def daily_close(*, branch: Branch, day: date) -> DailyClose:
    sums = dict(
        Payment.objects.filter(invoice__branch=branch, invoice__qoyod_managed=False, paid_on=day)
        .order_by()
        .values_list("method")
        .annotate(total=Sum("amount"))
    )
    counter = tuple(
        (str(label), to_money(sums.get(value) or ZERO)) for value, label in Payment.Method.choices
    )
    counter_total = to_money(sum((amount for _, amount in counter), ZERO))
    received = QoyodAllocation.objects.filter(
        invoice__branch=branch, source_type=QoyodAllocation.Source.RECEIPT, date=day
    ).aggregate(total=Sum("amount"))["total"]
    qoyod_received = to_money(received or ZERO)
    return DailyClose(
        branch=branch,
        day=day,
        counter=counter,
        counter_total=counter_total,
        qoyod_received=qoyod_received,
        difference=to_money(counter_total - qoyod_received),
    )
