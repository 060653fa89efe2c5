from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sequence(models.Model):
    """Counters for gap-free numbers (jobs, invoices), incremented under a row lock."""

    name = models.CharField(max_length=30)
    year = models.PositiveIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        # Created by garage before the counters moved here; the table and its rows stay.
        db_table = "garage_sequence"
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [
            models.UniqueConstraint(fields=["name", "year"], name="sequence_unique_name_year")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.year}: {self.last_value}"
