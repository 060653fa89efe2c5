"""The receipts page a journal entry's description links to: /r/<token>/ (no login)."""

from __future__ import annotations

from django.urls import path

from accounting import sync_views

app_name = "receipts"

urlpatterns = [
    path("<uuid:receipts_token>/", sync_views.receipts_page, name="page"),
    path("<uuid:receipts_token>/<int:receipt_id>/", sync_views.receipt_file, name="file"),
]
