from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from core.calculations import (
    CalculationError,
    InvoiceTotals,
    LineInput,
    calculate_invoice,
    exclusive_to_inclusive,
    inclusive_to_exclusive,
)
from core.money import HALALA, to_money

D = Decimal
VAT_15 = D("0.15")
RATES = (D("0"), D("0.05"), D("0.15"))


def _line(quantity, unit_price, rate=VAT_15, **kwargs):
    return LineInput(quantity=D(quantity), unit_price=D(unit_price), vat_rate=D(rate), **kwargs)


def _strs(values):
    return [str(v) for v in values]


# Explicit cases


def test_single_exclusive_line():
    totals = calculate_invoice([_line("3", "33.33")])
    (line,) = totals.lines
    assert (str(line.net), str(line.vat), str(line.total)) == ("99.99", "15.00", "114.99")
    assert str(line.vat_adjustment) == "0.00"
    assert (str(totals.net), str(totals.vat), str(totals.total)) == ("99.99", "15.00", "114.99")


def test_single_inclusive_line():
    totals = calculate_invoice([_line("1", "115.00", price_includes_vat=True)])
    (line,) = totals.lines
    assert (str(line.net), str(line.vat), str(line.total)) == ("100.00", "15.00", "115.00")


def test_inclusive_line_with_fractional_quantity_keeps_the_rounded_inclusive_amount():
    # 0.5 × 229.99 = 114.995, which the customer pays as 115.00.
    totals = calculate_invoice([_line("0.5", "229.99", price_includes_vat=True)])
    (line,) = totals.lines
    assert (str(line.net), str(line.vat), str(line.total)) == ("100.00", "15.00", "115.00")


def test_inclusive_line_vat_is_the_remainder_of_the_inclusive_amount():
    # 0.04 / 1.15 = 0.0348 → net 0.03; the 0.01 left is VAT although 0.03 × 0.15 rounds to 0.00.
    (line,) = calculate_invoice([_line("1", "0.04", price_includes_vat=True)]).lines
    assert (str(line.net), str(line.vat), str(line.total)) == ("0.03", "0.01", "0.04")
    assert str(line.vat_adjustment) == "0.00"


def test_fractional_quantity_rounds_half_up():
    # 1.5 × 33.33 = 49.995
    (line,) = calculate_invoice([_line("1.5", "33.33")]).lines
    assert (str(line.net), str(line.vat), str(line.total)) == ("50.00", "7.50", "57.50")


def test_four_lines_of_ten_halalas_are_adjusted_to_the_rate_total():
    totals = calculate_invoice([_line("1", "0.10") for _ in range(4)])
    # Each line alone: 0.10 × 0.15 = 0.015 → 0.02, summing to 0.08; the rate allows 0.06 ± 0.01.
    assert _strs(line.vat for line in totals.lines) == ["0.01", "0.01", "0.02", "0.02"]
    assert _strs(line.vat_adjustment for line in totals.lines) == ["-0.01", "-0.01", "0.00", "0.00"]
    assert _strs(line.total for line in totals.lines) == ["0.11", "0.11", "0.12", "0.12"]
    (rate,) = totals.rates
    assert (str(rate.rate), str(rate.net), str(rate.vat)) == ("0.15", "0.40", "0.06")
    assert (str(totals.net), str(totals.vat), str(totals.total)) == ("0.40", "0.06", "0.46")


def test_adjustment_goes_to_the_largest_residue_before_the_earliest_line():
    # 0.04 × 0.15 = 0.006 → 0.01 (rounded up by 0.004); 0.10 lines are rounded up by 0.005.
    totals = calculate_invoice([_line("1", p) for p in ("0.04", "0.10", "0.04", "0.10")])
    assert _strs(line.vat_adjustment for line in totals.lines) == ["0.00", "-0.01", "0.00", "-0.01"]
    assert _strs(line.vat for line in totals.lines) == ["0.01", "0.01", "0.01", "0.01"]
    assert str(totals.vat) == "0.04"
    assert totals.vat == to_money(D("0.28") * VAT_15)


def test_adjustment_can_raise_vat_on_lines_rounded_down():
    # 0.03 × 0.15 = 0.0045 → 0.00 per line; 0.12 × 0.15 = 0.018 → 0.02 for the rate.
    totals = calculate_invoice([_line("1", "0.03") for _ in range(4)])
    assert _strs(line.vat for line in totals.lines) == ["0.01", "0.01", "0.00", "0.00"]
    assert _strs(line.vat_adjustment for line in totals.lines) == ["0.01", "0.01", "0.00", "0.00"]
    assert str(totals.vat) == "0.02"


def test_a_gap_of_one_halala_is_left_alone():
    # 2 × 0.02 = 0.04 against 0.03: within the rule, so no line is touched.
    totals = calculate_invoice([_line("1", "0.10") for _ in range(2)])
    assert _strs(line.vat for line in totals.lines) == ["0.02", "0.02"]
    assert all(line.vat_adjustment == 0 for line in totals.lines)


def test_inclusive_adjustment_moves_net_and_keeps_the_total():
    # 0.03 inclusive: net 0.03, VAT 0.00; four lines give VAT 0.00 against 0.12 × 0.15 → 0.02.
    totals = calculate_invoice([_line("1", "0.03", price_includes_vat=True) for _ in range(4)])
    assert _strs(line.net for line in totals.lines) == ["0.02", "0.02", "0.03", "0.03"]
    assert _strs(line.vat for line in totals.lines) == ["0.01", "0.01", "0.00", "0.00"]
    assert _strs(line.vat_adjustment for line in totals.lines) == ["0.01", "0.01", "0.00", "0.00"]
    assert _strs(line.total for line in totals.lines) == ["0.03"] * 4
    (rate,) = totals.rates
    assert (str(rate.net), str(rate.vat)) == ("0.10", "0.02")


def test_inclusive_move_that_closes_two_halalas_is_the_only_one():
    # 0.05 inclusive: net 0.04, VAT 0.01; rate 0.16 → 0.02 against 0.04. Moving one halala of
    # VAT into net makes the rate 0.17 → 0.03 against 0.03.
    totals = calculate_invoice([_line("1", "0.05", price_includes_vat=True) for _ in range(4)])
    assert _strs(line.net for line in totals.lines) == ["0.05", "0.04", "0.04", "0.04"]
    assert _strs(line.vat for line in totals.lines) == ["0.00", "0.01", "0.01", "0.01"]
    assert _strs(line.vat_adjustment for line in totals.lines) == ["-0.01", "0.00", "0.00", "0.00"]
    assert (str(totals.net), str(totals.vat), str(totals.total)) == ("0.17", "0.03", "0.20")


def test_rate_mixing_entry_modes_may_end_one_halala_from_its_target():
    # Before the rule: VAT 0.23 + 3 × 0.20 = 0.83 against 5.64 × 0.15 → 0.85. The exclusive line
    # (earliest of equal residues) takes +0.01; moving an inclusive line next would also move the
    # net to 5.63 → 0.84 and leave the rate one halala off the other way, so it is skipped.
    totals = calculate_invoice(
        [
            _line("1", "1.56", price_includes_vat=inclusive)
            for inclusive in (False, True, True, True)
        ]
    )
    assert _strs(line.vat for line in totals.lines) == ["0.24", "0.20", "0.20", "0.20"]
    assert _strs(line.vat_adjustment for line in totals.lines) == ["0.01", "0.00", "0.00", "0.00"]
    (rate,) = totals.rates
    assert (str(rate.net), str(rate.vat)) == ("5.64", "0.84")
    assert to_money(rate.net * rate.rate) - rate.vat == HALALA


def test_mixed_rates_are_summarised_per_rate():
    totals = calculate_invoice(
        [
            _line("2", "150.00"),
            _line("1", "80.00", rate="0"),
            _line("1", "20.00", rate="0.05"),
            _line("1", "57.50", price_includes_vat=True),
        ]
    )
    assert [(str(r.rate), str(r.net), str(r.vat)) for r in totals.rates] == [
        ("0", "80.00", "0.00"),
        ("0.05", "20.00", "1.00"),
        ("0.15", "350.00", "52.50"),
    ]
    assert _strs(line.total for line in totals.lines) == ["345.00", "80.00", "21.00", "57.50"]
    assert (str(totals.net), str(totals.vat), str(totals.total)) == ("450.00", "53.50", "503.50")


def test_discount_comes_off_before_vat():
    (line,) = calculate_invoice([_line("2", "50.00", discount=D("10.00"))]).lines
    assert (str(line.net), str(line.vat), str(line.total)) == ("90.00", "13.50", "103.50")


def test_discount_on_an_inclusive_line_comes_off_the_inclusive_amount():
    (line,) = calculate_invoice(
        [_line("1", "230.00", discount=D("115.00"), price_includes_vat=True)]
    ).lines
    assert (str(line.net), str(line.vat), str(line.total)) == ("100.00", "15.00", "115.00")


@pytest.mark.parametrize("inclusive", [False, True])
def test_discount_equal_to_the_line_amount_gives_a_zero_line(inclusive):
    totals = calculate_invoice(
        [_line("2.5", "40.00", discount=D("100.00"), price_includes_vat=inclusive)]
    )
    (line,) = totals.lines
    assert (str(line.net), str(line.vat), str(line.total)) == ("0.00", "0.00", "0.00")
    assert str(totals.total) == "0.00"


def test_empty_invoice_is_zero():
    totals = calculate_invoice([])
    assert totals.lines == ()
    assert totals.rates == ()
    assert (str(totals.net), str(totals.vat), str(totals.total)) == ("0.00", "0.00", "0.00")


def test_line_input_accepts_strings_and_ints():
    line = LineInput(quantity="2", unit_price="10.50", vat_rate="0.15", discount=1)
    assert line.quantity == D("2")
    assert line.discount == D("1")
    assert str(calculate_invoice([line]).lines[0].total) == "23.00"


def test_line_input_rejects_float():
    with pytest.raises(TypeError, match="float"):
        LineInput(quantity=D("1"), unit_price=10.5, vat_rate=VAT_15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantity": "0"}, "quantity 0 must be greater than zero"),
        ({"quantity": "-1"}, "quantity -1 must be greater than zero"),
        ({"unit_price": "-0.01"}, "unit price -0.01 must not be negative"),
        ({"discount": "-1"}, "discount -1 must not be negative"),
        ({"discount": "10.01"}, "discount 10.01 is more than the line amount 10.00"),
        ({"vat_rate": "-0.01"}, "VAT rate -0.01 must be at least 0 and below 1 (15 % is 0.15)"),
        ({"vat_rate": "1"}, "VAT rate 1 must be at least 0 and below 1 (15 % is 0.15)"),
        ({"vat_rate": "15"}, "VAT rate 15 must be at least 0 and below 1 (15 % is 0.15)"),
    ],
)
def test_invalid_lines_are_rejected_with_their_position(kwargs, message):
    fields = {"quantity": "2", "unit_price": "5.00", "vat_rate": "0.15"} | kwargs
    good = _line("1", "1.00")
    with pytest.raises(CalculationError) as excinfo:
        calculate_invoice([good, LineInput(**fields)])
    assert str(excinfo.value) == f"line 2: {message}"
    assert excinfo.value.line_index == 1
    assert isinstance(excinfo.value, ValueError)


def test_price_helpers():
    assert str(exclusive_to_inclusive("100", "0.15")) == "115.00"
    assert str(exclusive_to_inclusive("33.33", "0.15")) == "38.33"
    assert str(inclusive_to_exclusive("115.00", "0.15")) == "100.00"
    assert str(inclusive_to_exclusive("1.00", "0.15")) == "0.87"
    assert str(inclusive_to_exclusive("50", "0")) == "50.00"


@pytest.mark.parametrize("helper", [exclusive_to_inclusive, inclusive_to_exclusive])
def test_price_helpers_reject_bad_rates_and_floats(helper):
    with pytest.raises(CalculationError, match="VAT rate 1 must be"):
        helper("100", "1")
    with pytest.raises(TypeError):
        helper(100.0, "0.15")


# Properties


def _has_two_places(value: Decimal) -> bool:
    return value.as_tuple().exponent == -2


@st.composite
def line_inputs(draw):
    quantity = D(draw(st.integers(1, 100_000))).scaleb(-3)
    unit_price = D(draw(st.integers(0, 10_000_000))).scaleb(-2)
    gross = quantity * unit_price
    if draw(st.booleans()):
        discount = D(0)
    elif draw(st.booleans()):
        discount = gross
    else:
        discount = D(draw(st.integers(0, int(gross * 100)))).scaleb(-2)
    return LineInput(
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        vat_rate=draw(st.sampled_from(RATES)),
        price_includes_vat=draw(st.booleans()),
    )


invoices = st.lists(line_inputs(), min_size=1, max_size=30)


def _assert_invariants(lines: list[LineInput], totals: InvoiceTotals) -> None:
    amounts = [totals.net, totals.vat, totals.total]
    for result in totals.lines:
        amounts += [result.net, result.vat, result.total, result.vat_adjustment]
    for summary in totals.rates:
        amounts += [summary.net, summary.vat]
    assert all(_has_two_places(amount) for amount in amounts)

    for line, result in zip(lines, totals.lines, strict=True):
        assert result.total == result.net + result.vat
        assert result.net >= 0
        assert result.vat >= 0
        assert result.vat_adjustment in (-HALALA, 0, HALALA)
        amount = to_money(line.quantity * line.unit_price - line.discount)
        if line.price_includes_vat:
            assert result.total == amount
        else:
            assert result.net == amount
            assert result.vat - result.vat_adjustment == to_money(result.net * line.vat_rate)

    assert totals.net == sum(r.net for r in totals.lines)
    assert totals.vat == sum(r.vat for r in totals.lines)
    assert totals.vat == sum(s.vat for s in totals.rates)
    assert totals.total == totals.net + totals.vat

    assert [s.rate for s in totals.rates] == sorted({line.vat_rate for line in lines})
    for summary in totals.rates:
        members = [
            (line, result)
            for line, result in zip(lines, totals.lines, strict=True)
            if line.vat_rate == summary.rate
        ]
        assert summary.net == sum(result.net for _, result in members)
        assert summary.vat == sum(result.vat for _, result in members)
        assert abs(summary.vat - to_money(summary.net * summary.rate)) <= HALALA

        # The rule touches a rate only when plain line rounding broke it.
        before_net = sum(
            result.net + (result.vat_adjustment if line.price_includes_vat else 0)
            for line, result in members
        )
        before_vat = sum(result.vat - result.vat_adjustment for _, result in members)
        broken = abs(before_vat - to_money(before_net * summary.rate)) > HALALA
        adjusted = any(result.vat_adjustment for _, result in members)
        assert adjusted == broken
        if adjusted and not any(line.price_includes_vat for line, _ in members):
            assert summary.vat == to_money(summary.net * summary.rate)


@given(invoices)
def test_property_invoice_identities_hold(lines):
    _assert_invariants(lines, calculate_invoice(lines))


small_lines = st.builds(
    lambda halalas, rate, inclusive: _line(
        "1", D(halalas).scaleb(-2), rate=rate, price_includes_vat=inclusive
    ),
    st.integers(0, 2_000),
    st.sampled_from(RATES),
    st.booleans(),
)


@given(st.lists(small_lines, min_size=1, max_size=30))
def test_property_small_amounts_stress_the_rate_rule(lines):
    _assert_invariants(lines, calculate_invoice(lines))


prices = st.integers(0, 10_000_000).map(lambda h: D(h).scaleb(-2))
rates = st.one_of(st.sampled_from(RATES), st.integers(0, 9_999).map(lambda r: D(r).scaleb(-4)))


@given(prices, rates)
def test_property_exclusive_to_inclusive_and_back_is_exact(price, rate):
    assert inclusive_to_exclusive(exclusive_to_inclusive(price, rate), rate) == price


@given(prices, rates)
def test_property_inclusive_to_exclusive_and_back_is_within_a_halala(price, rate):
    round_trip = exclusive_to_inclusive(inclusive_to_exclusive(price, rate), rate)
    assert _has_two_places(round_trip)
    assert abs(round_trip - price) <= HALALA


@given(prices, st.sampled_from(RATES))
def test_property_inclusive_line_matches_the_price_helper(price, rate):
    (line,) = calculate_invoice([_line("1", price, rate=rate, price_includes_vat=True)]).lines
    assert line.net == inclusive_to_exclusive(price, rate)
    assert line.total == price


def test_hypothesis_finds_the_four_line_case_that_line_rounding_breaks():
    def line_rounding_breaks_the_rate(nets: list[Decimal]) -> bool:
        summed = sum(to_money(net * VAT_15) for net in nets)
        return abs(summed - to_money(sum(nets) * VAT_15)) > HALALA

    nets = find(
        st.lists(st.integers(1, 1_000).map(lambda h: D(h).scaleb(-2)), max_size=30),
        line_rounding_breaks_the_rate,
        settings=settings(derandomize=True, database=None, max_examples=5_000),
    )
    # Each line rounds by at most half a halala, so fewer than four lines can never miss by two.
    assert len(nets) == 4
    totals = calculate_invoice([_line("1", net) for net in nets])
    (rate,) = totals.rates
    assert rate.vat == to_money(rate.net * VAT_15)
    assert sum(abs(line.vat_adjustment) for line in totals.lines) == 2 * HALALA


def test_zero_rated_and_exempt_lines_carry_no_vat_and_are_summed_per_category() -> None:
    totals = calculate_invoice(
        [
            LineInput(
                quantity=Decimal("2"), unit_price=Decimal("100.00"), vat_rate=Decimal("0.15")
            ),
            LineInput(
                quantity=Decimal("1"), unit_price=Decimal("250.00"), vat_rate=Decimal("0"),
                tax_category="Z",
            ),
            LineInput(
                quantity=Decimal("3"), unit_price=Decimal("10.10"), vat_rate=Decimal("0"),
                tax_category="E",
            ),
            LineInput(quantity=Decimal("1"), unit_price=Decimal("40.00"), vat_rate=Decimal("0")),
        ]
    )  # fmt: skip

    assert [(r.category, r.rate, r.net, r.vat) for r in totals.rates] == [
        ("E", Decimal("0"), Decimal("30.30"), Decimal("0.00")),
        ("S", Decimal("0"), Decimal("40.00"), Decimal("0.00")),
        ("Z", Decimal("0"), Decimal("250.00"), Decimal("0.00")),
        ("S", Decimal("0.15"), Decimal("200.00"), Decimal("30.00")),
    ]
    assert (totals.net, totals.vat, totals.total) == (
        Decimal("520.30"), Decimal("30.00"), Decimal("550.30")
    )  # fmt: skip


def test_a_zero_rated_line_with_vat_is_refused() -> None:
    with pytest.raises(CalculationError, match="line 1: a zero-rated or exempt line has no VAT"):
        calculate_invoice(
            [
                LineInput(
                    quantity=Decimal("1"), unit_price=Decimal("10"), vat_rate=Decimal("0.15"),
                    tax_category="Z",
                )
            ]
        )  # fmt: skip
