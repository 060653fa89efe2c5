from __future__ import annotations

from django.urls import path

from accounting import import_views, sync_views, views

app_name = "accounting"

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/", views.settings, name="settings"),
    path("settings/sync/", views.config_sync, name="config_sync"),
    path("transactions/", views.transaction_list, name="transaction_list"),
    path("transactions/assign/", views.transaction_bulk_assign, name="transaction_bulk_assign"),
    path("transactions/verify/", views.transaction_verify, name="transaction_verify"),
    path("transactions/new/", views.transaction_create, name="transaction_create"),
    path("import/", import_views.statement_upload, name="statement_upload"),
    path("import/<uuid:upload>/", import_views.statement_map, name="statement_map"),
    path("transactions/sync/", sync_views.transaction_sync, name="transaction_sync"),
    path("transactions/sync/ids/", sync_views.transaction_sync_ids, name="transaction_sync_ids"),
]
