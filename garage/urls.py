from __future__ import annotations

from django.urls import path

from garage import views

app_name = "garage"

urlpatterns = [
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/new/", views.job_create, name="job_create"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/lines/", views.job_line_add, name="job_line_add"),
    path(
        "jobs/<int:pk>/lines/<int:line_pk>/remove/",
        views.job_line_remove,
        name="job_line_remove",
    ),
    path("jobs/<int:pk>/start/", views.job_start, name="job_start"),
    path("jobs/<int:pk>/complete/", views.job_complete, name="job_complete"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("vehicles/", views.vehicle_list, name="vehicle_list"),
    path("vehicles/new/", views.vehicle_create, name="vehicle_create"),
    path("vehicles/<int:pk>/edit/", views.vehicle_edit, name="vehicle_edit"),
    path("parts/", views.part_list, name="part_list"),
    path("parts/new/", views.part_create, name="part_create"),
    path("parts/<int:pk>/", views.part_detail, name="part_detail"),
    path("parts/<int:pk>/edit/", views.part_edit, name="part_edit"),
    path("parts/<int:pk>/receive/", views.part_receive, name="part_receive"),
    path("parts/services/", views.service_list, name="service_list"),
    path("parts/services/new/", views.service_create, name="service_create"),
    path("parts/services/<int:pk>/edit/", views.service_edit, name="service_edit"),
]
