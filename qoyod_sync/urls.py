from __future__ import annotations

from django.urls import include, path

from qoyod_sync import views

app_name = "qoyod_sync"

urlpatterns = [
    path("settings/", views.settings, name="settings"),
    path("settings/test/", views.connection_test, name="connection_test"),
    path("settings/mappings/", views.mappings, name="mappings"),
    path("retry-queue/", views.retry_queue, name="retry_queue"),
    path("invoices/<int:pk>/send/", views.invoice_send, name="invoice_send"),
    path("invoices/<int:pk>/retry/", views.invoice_retry, name="invoice_retry"),
    path(
        "invoices/<int:pk>/delete-draft/",
        views.invoice_draft_delete,
        name="invoice_draft_delete",
    ),
    path("", include("qoyod_sync.readback.urls")),
]
