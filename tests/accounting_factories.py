"""Factories for accounting rows: budgets and transactions (numbers as the service gives them)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory

from accounting import models
from tests.factories import BranchFactory, UserFactory


class BudgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Budget
        django_get_or_create = ("name_en",)

    name_en = factory.Sequence(lambda n: f"Budget {n}")
    name_ar = factory.Sequence(lambda n: f"ميزانية {n}")


class TransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Transaction

    number = factory.Sequence(lambda n: f"EXP-2026-{n + 900000:06d}")
    kind = models.Transaction.Kind.EXPENSE
    direction = models.Transaction.Direction.OUT
    date = datetime.date(2026, 11, 20)
    amount = Decimal("115.00")
    vat_amount = Decimal("15.00")
    payee = "Al Jazira Auto Parts"
    branch = factory.SubFactory(BranchFactory)
    created_by = factory.SubFactory(UserFactory)
