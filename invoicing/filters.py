"""Filters for the invoice list; the free-text search is in invoicing.selectors."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import FilterForm
from garage.models import Branch
from invoicing.models import Invoice


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Invoice.Status.choices, empty_label=_("All statuses")
    )
    branch = django_filters.ModelChoiceFilter(
        label=_("Branch"),
        queryset=Branch.objects.filter(is_active=True),
        empty_label=_("All branches"),
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
        fields = ["status", "branch", "issued_from", "issued_to"]
        form = FilterForm
