from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@permission_required("garage.view_jobcard", raise_exception=True)
def job_list(request: HttpRequest) -> HttpResponse:
    return render(request, "garage/job_list.html")
