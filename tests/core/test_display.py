"""The builtin display filters (core/templatetags/display.py), the formats behind them, and
core.html's markup."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from core.arabic import isolate, ltr_isolate
from core.html import markup
from core.money import money_text, plain_text


def _render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("2E+1"), "20"),
        (Decimal("20.000"), "20"),
        (Decimal("1E+2"), "100"),
        (Decimal("1.500"), "1.5"),
        (Decimal("0.001"), "0.001"),
        (Decimal("1E-3"), "0.001"),
        (Decimal("-1.000"), "-1"),
        (7, "7"),
        ("2.50", "2.5"),
    ],
)
def test_plain_text_never_writes_an_exponent(value, text):
    assert plain_text(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("115"), "115.00"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("0.125"), "0.13"),
        (Decimal("-0.001"), "0.00"),
        (Decimal("-15.5"), "-15.50"),
    ],
)
def test_money_text_has_two_places_rounded_half_up(value, text):
    assert money_text(value) == text


def test_qty_and_money_filters_need_no_load_and_skip_missing_values():
    html = _render(
        "[{{ a|qty }}][{{ b|money }}][{{ none|qty }}][{{ none|money }}]",
        a=Decimal("2E+1"),
        b=Decimal("2E+1"),
        none=None,
    )

    assert html == "[20][20.00][][]"


def test_ltr_isolates_and_escapes_the_value():
    html = _render(
        "{{ plate|ltr }} {{ minus|qty|ltr }} {{ evil|ltr }}[{{ none|ltr }}]",
        plate="5678 DRS",
        minus=Decimal("-1.000"),
        evil="<b>",
        none=None,
    )

    assert html == (
        '<bdi dir="ltr">5678 DRS</bdi> <bdi dir="ltr">-1</bdi> <bdi dir="ltr">&lt;b&gt;</bdi>[]'
    )


def test_ltr_text_uses_isolate_marks_where_no_markup_fits():
    assert _render("{{ plate|ltr_text }}", plate="5678 DRS") == "\u20665678 DRS\u2069"
    assert ltr_isolate("+966500000001") == "\u2066+966500000001\u2069"
    assert isolate("عميل 1") == "\u2068عميل 1\u2069"


@pytest.mark.parametrize(
    ("value", "text"),
    [(Decimal("0.01"), "+0.01"), (Decimal("-0.01"), "-0.01"), (Decimal("0"), "0.00")],
)
def test_signed_shows_the_plus_of_a_positive_amount(value, text):
    assert _render("{{ value|money|signed }}", value=value) == text


@pytest.mark.parametrize("language", ["en", "ar"])
def test_dates_read_day_month_year_in_both_languages(language):
    when = datetime.datetime(2026, 12, 3, 14, 5, tzinfo=datetime.UTC)
    source = (
        '{{ day|date:"SHORT_DATE_FORMAT" }}|{{ day|date:"DATE_FORMAT" }}|{{ day }}|'
        '{{ when|date:"SHORT_DATETIME_FORMAT" }}|{{ when|date:"DATETIME_FORMAT" }}'
    )

    with translation.override(language):
        html = _render(source, day=datetime.date(2026, 12, 3), when=when)

    # 14:05 UTC is 17:05 in Riyadh (settings TIME_ZONE).
    assert html == "03/12/2026|03/12/2026|03/12/2026|03/12/2026 17:05|03/12/2026 17:05"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_raw_decimal_reads_the_same_in_both_languages(language):
    with translation.override(language):
        text = _render("{{ q }}|{{ n|floatformat:2 }}", q=Decimal("1.5"), n=Decimal("1234.5"))

    assert text == "1.5|1234.50"


@pytest.mark.parametrize(
    "values",
    [
        ("plain", 'a "quoted" <b>&</b>', "it's"),
        (SafeString("<b>safe</b>"), 7, None),
        (gettext_lazy("Branch"), mark_safe("<i>x</i>"), Decimal("1.50")),
    ],
)
def test_markup_escapes_as_format_html_does(values):
    template = '<span title="{}">{}</span>{}'

    assert markup(template, *values) == format_html(template, *values)
    assert isinstance(markup(template, *values), SafeString)
