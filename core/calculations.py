"""Invoice arithmetic on Decimal: line amounts, VAT per rate and totals, exact to the halala.

The one VAT rule: invoices calculate with it, and job cards estimate with it.

Each line's gross is quantity × unit price, less its discount (an amount in SAR, before VAT).
Tax-exclusive entry: net = to_money(gross − discount) and VAT = to_money(net × rate).
Tax-inclusive entry: the customer pays to_money(gross − discount); net =
to_money((gross − discount) / (1 + rate)) and VAT is the rest, so the line total is exactly
the inclusive amount, though its VAT may then be a halala away from to_money(net × rate).
Every line total is net + VAT, and the invoice adds up its lines.

VAT category. A line is standard-rated ("S") unless it says zero-rated ("Z") or exempt ("E");
those carry no VAT, so their rate must be 0, and they are summed apart from standard lines at
0 % (ZATCA reports each category's taxable amount separately): summaries are per (category,
rate).

Per-rate adjustment rule. ZATCA accepts a rate's VAT only within one halala of
to_money(rate net × rate), and summing rounded line VATs can miss that: four lines of 0.10 at
15 % give 4 × 0.02 = 0.08 against to_money(0.40 × 0.15) = 0.06. When a rate misses by more
than one halala, halalas are moved one at a time off (or onto) the lines whose VAT was rounded
furthest in the wrong direction — largest residue between the line's rounded VAT and net × rate,
ties to the earliest line, each line at most once — until the rate's VAT equals
to_money(rate net × rate); the four lines above become 0.01, 0.01, 0.02 and 0.02. Each line's
``vat_adjustment`` records its move (−0.01, 0.00 or +0.01) so the invoice can show it. On a
tax-inclusive line the net moves the opposite way, keeping the total the customer agreed to;
because that also moves the rate's net, a move that would not bring the rate closer is skipped,
and a rate with tax-inclusive lines may end one halala from its target, which ZATCA accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.money import HALALA, DecimalLike, to_decimal, to_money

ZERO = Decimal("0.00")
STANDARD = "S"
CATEGORIES = ("S", "Z", "E")


class CalculationError(ValueError):
    """An invoice line or price that cannot be calculated, with the offending line's index."""

    def __init__(self, message: str, *, line_index: int | None = None) -> None:
        super().__init__(message if line_index is None else f"line {line_index + 1}: {message}")
        self.line_index = line_index


@dataclass(frozen=True, kw_only=True)
class LineInput:
    """One invoice line as entered: quantity, unit price, discount in SAR and VAT rate."""

    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    discount: Decimal = ZERO
    price_includes_vat: bool = False
    tax_category: str = STANDARD

    def __post_init__(self) -> None:
        # Forms hand over strings; converting here keeps float out of every later step.
        for name in ("quantity", "unit_price", "vat_rate", "discount"):
            object.__setattr__(self, name, to_decimal(getattr(self, name)))


@dataclass(frozen=True)
class LineResult:
    """A calculated line; vat_adjustment is what the per-rate rule added to its VAT."""

    net: Decimal
    vat: Decimal
    total: Decimal
    vat_adjustment: Decimal


@dataclass(frozen=True)
class RateSummary:
    """Net and VAT of all lines of one VAT category at one rate."""

    rate: Decimal
    net: Decimal
    vat: Decimal
    category: str = STANDARD


@dataclass(frozen=True)
class InvoiceTotals:
    """Per-line results in input order, per-(category, rate) summaries by ascending rate then
    category, and totals."""

    lines: tuple[LineResult, ...]
    rates: tuple[RateSummary, ...]
    net: Decimal
    vat: Decimal
    total: Decimal


@dataclass(slots=True)
class _Draft:
    index: int
    inclusive: bool
    net: Decimal
    vat: Decimal
    # How far the rounded VAT falls short of net × rate; the adjustment order follows it.
    residue: Decimal
    adjustment: Decimal = ZERO


def _validate_rate(rate: Decimal, *, line_index: int | None = None) -> None:
    if not ZERO <= rate < 1:
        raise CalculationError(
            f"VAT rate {rate} must be at least 0 and below 1 (15 % is 0.15)",
            line_index=line_index,
        )


def exclusive_to_inclusive(price: DecimalLike, rate: DecimalLike) -> Decimal:
    """Return the VAT-inclusive price, to the halala, of a VAT-exclusive price."""
    rate = to_decimal(rate)
    _validate_rate(rate)
    return to_money(to_decimal(price) * (1 + rate))


def inclusive_to_exclusive(price: DecimalLike, rate: DecimalLike) -> Decimal:
    """Return the VAT-exclusive price, to the halala, of a VAT-inclusive price."""
    rate = to_decimal(rate)
    _validate_rate(rate)
    return to_money(to_decimal(price) / (1 + rate))


def calculate_invoice(lines: Sequence[LineInput]) -> InvoiceTotals:
    """Calculate every line, the per-rate summaries and the invoice totals."""
    drafts = [_draft(line, index) for index, line in enumerate(lines)]
    groups: dict[tuple[Decimal, str], list[_Draft]] = {}
    for line, draft in zip(lines, drafts, strict=True):
        groups.setdefault((line.vat_rate, line.tax_category), []).append(draft)

    summaries = []
    for rate, category in sorted(groups):
        members = groups[(rate, category)]
        _apply_rate_rule(rate, members)
        summaries.append(
            RateSummary(
                rate=rate,
                net=sum((d.net for d in members), ZERO),
                vat=sum((d.vat for d in members), ZERO),
                category=category,
            )
        )

    results = tuple(
        LineResult(net=d.net, vat=d.vat, total=d.net + d.vat, vat_adjustment=d.adjustment)
        for d in drafts
    )
    net = sum((r.net for r in results), ZERO)
    vat = sum((r.vat for r in results), ZERO)
    return InvoiceTotals(lines=results, rates=tuple(summaries), net=net, vat=vat, total=net + vat)


def _draft(line: LineInput, index: int) -> _Draft:
    if line.quantity <= 0:
        raise CalculationError(
            f"quantity {line.quantity} must be greater than zero", line_index=index
        )
    if line.unit_price < 0:
        raise CalculationError(
            f"unit price {line.unit_price} must not be negative", line_index=index
        )
    if line.discount < 0:
        raise CalculationError(f"discount {line.discount} must not be negative", line_index=index)
    _validate_rate(line.vat_rate, line_index=index)
    if line.tax_category not in CATEGORIES:
        raise CalculationError(
            f"VAT category {line.tax_category!r} is not one of {', '.join(CATEGORIES)}",
            line_index=index,
        )
    if line.tax_category != STANDARD and line.vat_rate != 0:
        raise CalculationError(
            f"a zero-rated or exempt line has no VAT, not {line.vat_rate}", line_index=index
        )
    gross = line.quantity * line.unit_price
    if line.discount > gross:
        raise CalculationError(
            f"discount {line.discount} is more than the line amount {to_money(gross)}",
            line_index=index,
        )

    amount = gross - line.discount
    rate = line.vat_rate
    if line.price_includes_vat:
        net = to_money(amount / (1 + rate))
        vat = to_money(amount) - net
    else:
        net = to_money(amount)
        vat = to_money(net * rate)
    return _Draft(
        index=index,
        inclusive=line.price_includes_vat,
        net=net,
        vat=vat,
        residue=net * rate - vat,
    )


def _apply_rate_rule(rate: Decimal, drafts: list[_Draft]) -> None:
    net = sum((d.net for d in drafts), ZERO)
    vat = sum((d.vat for d in drafts), ZERO)
    gap = to_money(net * rate) - vat
    if abs(gap) <= HALALA:
        return

    # Every line that can move errs by under a halala and each accepted move closes at least one
    # while the gap exceeds one, so one pass over the lines always brings the rate within a halala.
    step = HALALA if gap > 0 else -HALALA
    # Short of VAT: lines rounded down the most go first; over: lines rounded up the most.
    order = sorted(drafts, key=lambda d: (-d.residue if gap > 0 else d.residue, d.index))
    for draft in order:
        if not gap:
            break
        new_vat = draft.vat + step
        net_shift = -step if draft.inclusive else ZERO
        new_net = draft.net + net_shift
        if new_vat < 0 or new_net < 0:
            continue
        new_gap = to_money((net + net_shift) * rate) - (vat + step)
        if abs(new_gap) >= abs(gap):
            continue
        draft.vat, draft.net, draft.adjustment = new_vat, new_net, step
        net, vat, gap = net + net_shift, vat + step, new_gap
