"""VAT categories of catalogue items and the ZATCA reasons for a zero-rated or exempt supply.

The one home of the rule "not standard-rated needs a reason of its category, and 0% VAT":
models, forms, the invoice calculator, printing and the Qoyod send all read it from here.
Reasons are ZATCA's VATEX codes (e-invoicing data dictionary, BR-KSA-CL-04) with the wording
ZATCA publishes in English and Arabic; Qoyod lists the same codes under its own ids
(GET /special_tax_reasons).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

ZERO_RATE = Decimal("0")


class TaxCategory(models.TextChoices):
    """ZATCA's VAT category codes (UNTDID 5305) as they apply in Saudi Arabia."""

    STANDARD = "S", _("Standard rate")
    ZERO_RATED = "Z", _("Zero-rated")
    EXEMPT = "E", _("Exempt")


@dataclass(frozen=True)
class ExemptionReason:
    code: str
    category: str
    label_en: str
    label_ar: str

    @property
    def label(self) -> str:
        return self.label_ar if get_language() == "ar" else self.label_en


_E, _Z = TaxCategory.EXEMPT.value, TaxCategory.ZERO_RATED.value

# Both languages at once, for the bilingual tax invoice (print and PDF).
PRINTED_CATEGORY = {
    TaxCategory.STANDARD.value: ("Standard rate", "النسبة الأساسية"),
    _Z: ("Zero-rated supplies", "توريدات خاضعة لنسبة الصفر"),
    _E: ("Exempt supplies", "توريدات معفاة"),
}

REASONS: tuple[ExemptionReason, ...] = (
    ExemptionReason(
        "VATEX-SA-29",
        _E,
        "Financial services mentioned in Article 29 of the VAT Regulations",
        "الخدمات المالية المذكورة في المادة 29 من اللائحة التنفيذية لنظام ضريبة القيمة المضافة",
    ),
    ExemptionReason(
        "VATEX-SA-29-7",
        _E,
        "Life insurance services mentioned in Article 29 of the VAT Regulations",
        "خدمات التأمين على الحياة المذكورة في المادة 29 من اللائحة التنفيذية",
    ),
    ExemptionReason(
        "VATEX-SA-30",
        _E,
        "Real estate transactions mentioned in Article 30 of the VAT Regulations",
        "التوريدات العقارية المذكورة في المادة 30 من اللائحة التنفيذية",
    ),
    ExemptionReason("VATEX-SA-32", _Z, "Export of goods", "صادرات السلع من المملكة"),
    ExemptionReason("VATEX-SA-33", _Z, "Export of services", "صادرات الخدمات من المملكة"),
    ExemptionReason(
        "VATEX-SA-34-1", _Z, "The international transport of goods", "النقل الدولي للسلع"
    ),
    ExemptionReason(
        "VATEX-SA-34-2", _Z, "International transport of passengers", "النقل الدولي للركاب"
    ),
    ExemptionReason(
        "VATEX-SA-34-3",
        _Z,
        "Services directly connected and incidental to a supply of international passenger "
        "transport",
        "الخدمات المرتبطة مباشرة أو عرضيًا بتوريد النقل الدولي للركاب",
    ),
    ExemptionReason(
        "VATEX-SA-34-4", _Z, "Supply of a qualifying means of transport", "توريد وسائل نقل مؤهلة"
    ),
    ExemptionReason(
        "VATEX-SA-34-5",
        _Z,
        "Any services relating to goods or passenger transportation, as defined in Article 25 "
        "of the VAT Regulations",
        "الخدمات ذات الصلة بنقل السلع أو الركاب وفقًا للمادة 25 من اللائحة التنفيذية",
    ),
    ExemptionReason(
        "VATEX-SA-35", _Z, "Medicines and medical equipment", "الأدوية والمعدات الطبية"
    ),
    ExemptionReason("VATEX-SA-36", _Z, "Qualifying metals", "المعادن المؤهلة"),
    ExemptionReason(
        "VATEX-SA-EDU", _Z, "Private education to citizens", "الخدمات التعليمية الخاصة للمواطنين"
    ),
    ExemptionReason(
        "VATEX-SA-HEA", _Z, "Private healthcare to citizens", "الخدمات الصحية الخاصة للمواطنين"
    ),
    ExemptionReason(
        "VATEX-SA-MLTRY", _Z, "Supply of qualified military goods", "توريد السلع العسكرية المؤهلة"
    ),
)
BY_CODE = {reason.code: reason for reason in REASONS}


def reason_choices() -> list[tuple[str, str]]:
    """The reasons for a select, in the reader's language (a callable, so choices follow it)."""
    return [(r.code, f"{r.code} · {r.label}") for r in REASONS]


CODE_MAX_LENGTH = 16


def reason(code: str) -> ExemptionReason | None:
    return BY_CODE.get(code)


def codes_of(category: str) -> list[str]:
    return [r.code for r in REASONS if r.category == category]


def is_standard(category: str) -> bool:
    return category == TaxCategory.STANDARD


def category_label(category: str) -> str:
    return str(dict(TaxCategory.choices).get(category, category))


def item_constraint(model_name: str) -> models.CheckConstraint:
    """The rule as a CHECK: standard without a reason; Z or E with a reason of theirs, at 0%."""
    return models.CheckConstraint(
        condition=Q(tax_category=TaxCategory.STANDARD, vat_exemption_code="")
        | Q(tax_category=_Z, vat_exemption_code__in=codes_of(_Z), vat_rate=ZERO_RATE)
        | Q(tax_category=_E, vat_exemption_code__in=codes_of(_E), vat_rate=ZERO_RATE),
        name=f"{model_name}_vat_category_reason",
    )


def validate_category(*, category: str, code: str, rate: Decimal | None) -> None:
    """Raise field errors unless the category, its reason and the VAT rate fit together."""
    errors: dict[str, list[ValidationError]] = {}
    if is_standard(category):
        if code:
            errors["vat_exemption_code"] = [
                ValidationError(
                    _("Only a zero-rated or exempt item has a ZATCA reason; clear it."),
                    code="reason_not_needed",
                )
            ]
    else:
        found = reason(code)
        if found is None:
            errors["vat_exemption_code"] = [
                ValidationError(
                    _("Choose the ZATCA reason why this item is %(category)s."),
                    code="reason_required",
                    params={"category": category_label(category).lower()},
                )
            ]
        elif found.category != category:
            errors["vat_exemption_code"] = [
                ValidationError(
                    _("%(code)s is a reason for %(other)s items, not %(category)s ones."),
                    code="reason_category",
                    params={
                        "code": found.code,
                        "other": category_label(found.category).lower(),
                        "category": category_label(category).lower(),
                    },
                )
            ]
        if rate is not None and rate != ZERO_RATE:
            errors["vat_rate"] = [
                ValidationError(
                    _("A zero-rated or exempt item has 0% VAT; set the VAT rate to 0."),
                    code="rate_not_zero",
                )
            ]
    if errors:
        raise ValidationError(errors)
