from __future__ import annotations

from django.urls import path

from api import pages

app_name = "api_clients"

urlpatterns = [
    path("", pages.client_list, name="list"),
    path("new/", pages.client_create, name="create"),
    path("<int:pk>/revoke/", pages.client_revoke, name="client_revoke"),
]
