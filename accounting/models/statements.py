"""A bank or card statement uploaded for import, kept between the upload, mapping and import steps.

The file's bytes live on this row (at most STATEMENT_MAX_BYTES), so nothing rides in the session
cookie and nothing is left in storage when a row is deleted. The token in the URL is unguessable
and the row is only ever shown to the user who uploaded it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from garage.models import Branch


class StatementUpload(models.Model):
    class Encoding(models.TextChoices):
        # Python's utf-8-sig reads UTF-8 with or without the byte-order mark Excel writes.
        UTF8 = "utf-8-sig", _("UTF-8 (with or without BOM)")
        WINDOWS_1256 = "windows-1256", _("Windows-1256 (Arabic Excel)")

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    original_name = models.CharField(max_length=200, blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, choices=Encoding)
    delimiter = models.CharField(max_length=1)
    content = models.BinaryField()
    # The first row's cells, as the mapping step offers them.
    header = models.JSONField(default=list)
    row_count = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(null=True, blank=True)
    branch = models.ForeignKey(
        Branch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    imported_count = models.PositiveIntegerField(default=0)
    first_number = models.CharField(max_length=25, blank=True)
    last_number = models.CharField(max_length=25, blank=True)
    # Lines skipped, as data: [{"line", "date", "amount", "reference", "stored"}] and
    # [{"line", "code", "params"}] (accounting/csv_import.py registers the codes).
    duplicates = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("statement upload")
        verbose_name_plural = _("statement uploads")

    def __str__(self) -> str:
        return self.original_name or str(self.token)
