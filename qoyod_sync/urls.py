from __future__ import annotations

from django.urls import include, path

from qoyod_sync import credit_views, views

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
    path("invoices/<int:pk>/sync-stock/", views.invoice_stock_sync, name="invoice_stock_sync"),
    path("invoices/<int:pk>/credit/", credit_views.invoice_credit, name="invoice_credit"),
    path(
        "invoices/<int:pk>/credit-and-reissue/",
        credit_views.invoice_credit_and_reissue,
        name="invoice_credit_and_reissue",
    ),
    path(
        "invoices/<int:pk>/credit-note-send/",
        credit_views.invoice_credit_note_send,
        name="invoice_credit_note_send",
    ),
    path("stock/sync/", views.stock_sync, name="stock_sync"),
    path("tax-invoice/<str:token>/", views.tax_invoice, name="tax_invoice"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("daily-close/", views.daily_close, name="daily_close"),
    path("reconciliation/run/", views.reconciliation_start, name="reconciliation_run"),
    path("reconciliation/<int:pk>/csv/", views.reconciliation_csv, name="reconciliation_csv"),
    path("", include("qoyod_sync.readback.urls")),
]
