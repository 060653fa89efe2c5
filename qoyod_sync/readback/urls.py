"""Routes of the payment read-back, included into the qoyod_sync namespace by qoyod_sync/urls.py."""

from __future__ import annotations

from django.urls import path

from qoyod_sync.readback import views

urlpatterns = [
    path("invoices/<int:pk>/refresh/", views.invoice_refresh, name="invoice_refresh"),
    path("refresh/", views.invoices_refresh, name="invoices_refresh"),
    path("refresh/stale/", views.refresh_stale, name="refresh_stale"),
    path("refresh/poll/", views.refresh_poll, name="refresh_poll"),
]
