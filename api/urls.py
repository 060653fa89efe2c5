"""/api/: v1 of the finance API, its OpenAPI schema and the docs page.

Every view here is outside the login (the API answers 401 itself; the schema and docs are
public so a finance system's developers can read them).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import customer_views, views, webhook_views

app_name = "api"


def _public(route: str, view: Any, name: str) -> URLPattern:
    return path(route, login_not_required(view), name=name)


urlpatterns = [
    _public("schema/", SpectacularAPIView.as_view(), "schema"),
    _public("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), "docs"),
    _public(
        "v1/invoices/unprocessed/", views.UnprocessedInvoiceList.as_view(), "invoice_unprocessed"
    ),
    _public("v1/invoices/id/<int:pk>/", views.InvoiceById.as_view(), "invoice_by_id"),
    _public("v1/invoices/<str:number>/", views.InvoiceByNumber.as_view(), "invoice_detail"),
    _public("v1/invoices/<str:number>/pdf/", views.InvoicePdf.as_view(), "invoice_pdf"),
    _public(
        "v1/invoices/<str:number>/processed/", views.InvoiceProcessed.as_view(), "invoice_processed"
    ),
    _public("v1/invoices/<str:number>/failed/", views.InvoiceFailed.as_view(), "invoice_failed"),
    _public("v1/sales/", views.SaleList.as_view(), "sales"),
    _public("v1/customers/", customer_views.CustomerList.as_view(), "customers"),
    _public("v1/customers/<int:pk>/", customer_views.CustomerDetail.as_view(), "customer_detail"),
    _public(
        "v1/customers/<int:pk>/contacts/", customer_views.ContactList.as_view(), "customer_contacts"
    ),
    _public(
        "v1/customers/<int:pk>/contacts/<int:contact_pk>/",
        customer_views.ContactDetail.as_view(),
        "customer_contact_detail",
    ),
    _public("v1/webhooks/", webhook_views.WebhookList.as_view(), "webhooks"),
    _public("v1/webhooks/<int:pk>/", webhook_views.WebhookDetail.as_view(), "webhook_detail"),
    re_path(r"^.*$", login_not_required(views.NotFoundView.as_view())),
]
