"""Filters of the Accounting menu's transaction tabs (the seed's step 6)."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from accounting.models import Budget, Receipt, Transaction
from core.forms import FilterForm
from garage.models import Branch

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class TransactionFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(
        label=_("From"),
        field_name="date",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        label=_("To"),
        field_name="date",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    branch = django_filters.ModelChoiceFilter(
        label=_("Branch"), queryset=Branch.objects.all(), empty_label=_("All branches")
    )
    budget = django_filters.ModelChoiceFilter(
        label=_("Budget or category"), queryset=Budget.objects.all(), empty_label=_("Any")
    )
    employee = django_filters.ModelChoiceFilter(
        label=_("Employee"),
        queryset=get_user_model().objects.order_by("first_name", "username"),
        empty_label=_("Anyone"),
    )
    amount_min = django_filters.NumberFilter(
        label=_("Amount from"), field_name="amount", lookup_expr="gte"
    )
    amount_max = django_filters.NumberFilter(
        label=_("Amount to"), field_name="amount", lookup_expr="lte"
    )
    has_receipt = django_filters.ChoiceFilter(
        label=_("Receipt"), choices=YES_NO, empty_label=_("Any"), method="filter_has_receipt"
    )
    verified = django_filters.ChoiceFilter(
        label=_("Verified"), choices=YES_NO, empty_label=_("Any"), method="filter_verified"
    )
    synced = django_filters.ChoiceFilter(
        label=_("Synced to Qoyod"), choices=YES_NO, empty_label=_("Any"), method="filter_synced"
    )

    class Meta:
        model = Transaction
        fields = [
            "date_from",
            "date_to",
            "branch",
            "budget",
            "employee",
            "amount_min",
            "amount_max",
            "has_receipt",
            "verified",
            "synced",
        ]
        form = FilterForm

    def filter_has_receipt(
        self, queryset: QuerySet[Transaction], name: str, value: str
    ) -> QuerySet[Transaction]:
        has = Exists(Receipt.objects.filter(transaction=OuterRef("pk")))
        return queryset.filter(has if value == "yes" else ~has)

    def filter_verified(
        self, queryset: QuerySet[Transaction], name: str, value: str
    ) -> QuerySet[Transaction]:
        return queryset.filter(verified_at__isnull=value != "yes")

    def filter_synced(
        self, queryset: QuerySet[Transaction], name: str, value: str
    ) -> QuerySet[Transaction]:
        synced = Transaction.SyncState.SYNCED
        return queryset.filter(state=synced) if value == "yes" else queryset.exclude(state=synced)
