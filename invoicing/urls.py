from __future__ import annotations

from django.urls import path

from invoicing.views import document, edit, lists

app_name = "invoicing"

urlpatterns = [
    path("", lists.invoice_list, name="invoice_list"),
    path("needs-invoice/", lists.needs_invoice, name="needs_invoice"),
    path("generate/<int:job_id>/", edit.invoice_generate, name="invoice_generate"),
    path("preview/", edit.invoice_preview, name="invoice_preview"),
    path("line-row/", edit.invoice_line_row, name="invoice_line_row"),
    path("vehicle-options/", edit.invoice_vehicle_options, name="invoice_vehicle_options"),
    path("shared/<str:token>/", document.invoice_shared, name="invoice_shared"),
    path("shared/<str:token>/pdf/", document.invoice_shared_pdf, name="invoice_shared_pdf"),
    path("<int:pk>/", document.invoice_detail, name="invoice_detail"),
    path("<int:pk>/edit/", edit.invoice_edit, name="invoice_edit"),
    path("<int:pk>/void/", document.invoice_void, name="invoice_void"),
    path(
        "<int:pk>/void-and-reissue/",
        document.invoice_void_and_reissue,
        name="invoice_void_and_reissue",
    ),
    path("<int:pk>/reissue/", document.invoice_reissue, name="invoice_reissue"),
    path("<int:pk>/send/", document.invoice_send, name="invoice_send"),
    path("<int:pk>/print/", document.invoice_print, name="invoice_print"),
    path("<int:pk>/pdf/", document.invoice_pdf_view, name="invoice_pdf"),
]
