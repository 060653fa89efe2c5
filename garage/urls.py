from django.urls import path

from garage import views

app_name = "garage"

urlpatterns = [
    path("jobs/", views.job_list, name="job_list"),
]
