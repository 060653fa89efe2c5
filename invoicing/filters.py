"""Filters for the invoice list; the free-text search is in invoicing.selectors."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.forms import FilterForm
from garage.models import Branch
from invoicing.models import FinanceState, Invoice
from invoicing.selectors import QoyodView, invoice_qoyod_q


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Invoice.Status.choices, empty_label=_("All statuses")
    )
    branch = django_filters.ModelChoiceFilter(
        label=_("Branch"),
        queryset=Branch.objects.filter(is_active=True),
        empty_label=_("All branches"),
    )
    qoyod = django_filters.ChoiceFilter(
        label=_("In Qoyod"),
        choices=[
            (QoyodView.READY, _("Ready to send to Qoyod")),
            (QoyodView.AWAITING_APPROVAL, _("Awaiting approval in Qoyod")),
            (QoyodView.UNPAID, _("Unpaid in Qoyod")),
        ],
        empty_label=_("Any Qoyod state"),
        method="filter_qoyod",
    )
    finance_state = django_filters.ChoiceFilter(
        label=_("Finance system"), choices=FinanceState.choices, empty_label=_("Any")
    )
    issued_from = django_filters.DateFilter(
        label=_("Issued from"),
        field_name="issue_date",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    issued_to = django_filters.DateFilter(
        label=_("Issued to"),
        field_name="issue_date",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Invoice
        fields = ["status", "branch", "qoyod", "finance_state", "issued_from", "issued_to"]
        form = FilterForm

    def filter_qoyod(self, queryset: QuerySet[Invoice], name: str, value: str) -> QuerySet[Invoice]:
        return queryset.filter(invoice_qoyod_q(value))
