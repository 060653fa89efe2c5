"""The API clients page under Settings: list, create (the token is shown on the answer to the
create, once) and revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from api.forms import ApiClientForm
from api.models import ApiClient, WebhookDelivery, WebhookEndpoint
from api.services import apiclient_create, apiclient_revoke


@permission_required("api.view_apiclient", raise_exception=True)
@require_GET
def client_list(request: HttpRequest) -> HttpResponse:
    clients = ApiClient.objects.select_related("branch", "created_by")
    last = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-id")
    status = WebhookDelivery.Status
    endpoints = (
        WebhookEndpoint.objects.select_related("client")
        .annotate(
            delivered=Count("deliveries", filter=Q(deliveries__status=status.DELIVERED)),
            pending=Count("deliveries", filter=Q(deliveries__status=status.PENDING)),
            failed=Count("deliveries", filter=Q(deliveries__status=status.FAILED)),
            last_attempts=Subquery(last.values("attempts")[:1]),
            last_status_code=Subquery(last.values("last_status_code")[:1]),
        )
        .order_by("client__name", "id")
    )
    return render(request, "api/client_list.html", {"clients": clients, "endpoints": endpoints})


@permission_required("api.add_apiclient", raise_exception=True)
@require_http_methods(["GET", "POST"])
@never_cache
def client_create(request: HttpRequest) -> HttpResponse:
    form = ApiClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client, token = apiclient_create(
                name=data["name"], scopes=data["scopes"], branch=data["branch"],
                expires_at=data["expires_at"], user=request.user,  # type: ignore[arg-type]
            )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Rendered, not redirected: the token lives only in this answer (never_cache).
            return render(request, "api/client_created.html", {"client": client, "token": token})
    return render(request, "api/client_form.html", {"form": form})


@permission_required("api.change_apiclient", raise_exception=True)
@require_POST
def client_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(ApiClient, pk=pk)
    apiclient_revoke(client=client, user=request.user)  # type: ignore[arg-type]
    messages.success(request, _("%(name)s can no longer use the API.") % {"name": client.name})
    return redirect("api_clients:list")
