from __future__ import annotations

from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("invoice/<int:invoice_id>/new/", views.payment_create, name="payment_create"),
]
