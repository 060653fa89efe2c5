"""Routes of the payment read-back, included into the qoyod_sync namespace by qoyod_sync/urls.py."""

from __future__ import annotations

from django.urls import path

from qoyod_sync import refresh_views

urlpatterns = [
    path("invoices/<int:pk>/refresh/", refresh_views.invoice_refresh, name="invoice_refresh"),
    path("refresh/", refresh_views.invoices_refresh, name="invoices_refresh"),
    path("refresh/poll/", refresh_views.refresh_poll, name="refresh_poll"),
]
