from __future__ import annotations

from django.urls import path

from invoicing import views

app_name = "invoicing"

urlpatterns = [
    path("", views.invoice_list, name="invoice_list"),
    path("needs-invoice/", views.needs_invoice, name="needs_invoice"),
    path("generate/<int:job_id>/", views.invoice_generate, name="invoice_generate"),
    path("preview/", views.invoice_preview, name="invoice_preview"),
    path("line-row/", views.invoice_line_row, name="invoice_line_row"),
    path("vehicle-options/", views.invoice_vehicle_options, name="invoice_vehicle_options"),
    path("shared/<str:token>/", views.invoice_shared, name="invoice_shared"),
    path("<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("<int:pk>/void/", views.invoice_void, name="invoice_void"),
    path(
        "<int:pk>/void-and-reissue/",
        views.invoice_void_and_reissue,
        name="invoice_void_and_reissue",
    ),
    path("<int:pk>/reissue/", views.invoice_reissue, name="invoice_reissue"),
    path("<int:pk>/send/", views.invoice_send, name="invoice_send"),
    path("<int:pk>/print/", views.invoice_print, name="invoice_print"),
]
