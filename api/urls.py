"""/api/: v1 of the finance API, its OpenAPI schema and the docs page.

Every view here is outside the login (the API answers 401 itself; the schema and docs are
public so a finance system's developers can read them).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import customer_views, views, webhook_views

app_name = "api"

urlpatterns = [
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    path(
        "docs/",
        login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
    path(
        "v1/invoices/unprocessed/",
        login_not_required(views.UnprocessedInvoiceList.as_view()),
        name="invoice_unprocessed",
    ),
    path(
        "v1/invoices/id/<int:pk>/",
        login_not_required(views.InvoiceById.as_view()),
        name="invoice_by_id",
    ),
    path(
        "v1/invoices/<str:number>/",
        login_not_required(views.InvoiceByNumber.as_view()),
        name="invoice_detail",
    ),
    path(
        "v1/invoices/<str:number>/pdf/",
        login_not_required(views.InvoicePdf.as_view()),
        name="invoice_pdf",
    ),
    path(
        "v1/invoices/<str:number>/processed/",
        login_not_required(views.InvoiceProcessed.as_view()),
        name="invoice_processed",
    ),
    path(
        "v1/invoices/<str:number>/failed/",
        login_not_required(views.InvoiceFailed.as_view()),
        name="invoice_failed",
    ),
    path("v1/sales/", login_not_required(views.SaleList.as_view()), name="sales"),
    path(
        "v1/customers/",
        login_not_required(customer_views.CustomerList.as_view()),
        name="customers",
    ),
    path(
        "v1/customers/<int:pk>/",
        login_not_required(customer_views.CustomerDetail.as_view()),
        name="customer_detail",
    ),
    path(
        "v1/customers/<int:pk>/contacts/",
        login_not_required(customer_views.ContactList.as_view()),
        name="customer_contacts",
    ),
    path(
        "v1/customers/<int:pk>/contacts/<int:contact_pk>/",
        login_not_required(customer_views.ContactDetail.as_view()),
        name="customer_contact_detail",
    ),
    path("v1/webhooks/", login_not_required(webhook_views.WebhookList.as_view()), name="webhooks"),
    path(
        "v1/webhooks/<int:pk>/",
        login_not_required(webhook_views.WebhookDetail.as_view()),
        name="webhook_detail",
    ),
    re_path(r"^.*$", login_not_required(views.NotFoundView.as_view())),
]
