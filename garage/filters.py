"""Filters for the list pages; the free-text search is in garage.selectors."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.forms import FilterForm
from garage.models import Branch, Customer, JobCard, PartStock, SparePart


class JobCardFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=JobCard.Status.choices, empty_label=_("All statuses")
    )
    branch = django_filters.ModelChoiceFilter(
        label=_("branch"),
        queryset=Branch.objects.filter(is_active=True),
        empty_label=_("All branches"),
    )

    class Meta:
        model = JobCard
        fields = ["status", "branch"]
        form = FilterForm


class CustomerFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        label=_("type"), choices=Customer.Kind.choices, empty_label=_("All types")
    )

    class Meta:
        model = Customer
        fields = ["kind"]
        form = FilterForm


class SparePartFilter(django_filters.FilterSet):
    in_stock_at = django_filters.ModelChoiceFilter(
        label=_("in stock at"),
        queryset=Branch.objects.filter(is_active=True),
        empty_label=_("Any branch"),
        method="filter_in_stock_at",
    )

    class Meta:
        model = SparePart
        fields = ["in_stock_at"]
        form = FilterForm

    def filter_in_stock_at(
        self, queryset: QuerySet[SparePart], name: str, value: Branch
    ) -> QuerySet[SparePart]:
        in_stock = PartStock.objects.filter(branch=value, quantity__gt=0).values("part_id")
        return queryset.filter(pk__in=in_stock)
