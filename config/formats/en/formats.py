"""Output formats shared by both languages (settings FORMAT_MODULE_PATH); input formats stay
Django's, so forms parse what they always did."""

DATE_FORMAT = "d/m/Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
MONTH_DAY_FORMAT = "d/m"
YEAR_MONTH_FORMAT = "m/Y"
# Arabic's default decimal separator is a comma: a quantity shown as 1,5 next to amounts shown
# as 1.50 (core/money.py) reads as one and a half in one column and 15 in the other.
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
