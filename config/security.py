"""Login protection hooks for django-axes: the client address and the lockout page."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from functools import reduce
from operator import or_

from axes.helpers import (
    get_client_parameters,
    get_client_username,
    get_cool_off,
)
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from config.forms import LoginForm


def client_ip(request: HttpRequest) -> str | None:
    """The address the outermost trusted proxy saw, or REMOTE_ADDR without proxies.

    Each trusted proxy appends the address it received from, so the client is the
    TRUSTED_PROXY_COUNT-th entry from the right; entries left of it are whatever the client sent.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return remote
    return candidate


def lockout_unlocks_at(request: HttpRequest, credentials: dict | None) -> datetime:
    """When the lockout of this username or address ends: the cool-off after its last failure.

    Every failure counted within the cool-off has expired by then, so logging in works from
    that moment at the latest.
    """
    cool_off = get_cool_off(request)
    parameters = get_client_parameters(
        get_client_username(request, credentials),
        # Set on the request by axes' middleware before any login is checked.
        getattr(request, "axes_ip_address", None),
        getattr(request, "axes_user_agent", ""),
        request,
        credentials,
    )
    last_failure = AccessAttempt.objects.filter(
        reduce(or_, (Q(**p) for p in parameters)),
        attempt_time__gte=timezone.now() - cool_off,
    ).aggregate(last=Max("attempt_time"))["last"]
    return (last_failure or timezone.now()) + cool_off


def lockout_message(unlocks_at: datetime) -> str:
    local = timezone.localtime(unlocks_at)
    if local.date() == timezone.localdate():
        when = formats.time_format(local, "H:i")
    else:
        when = formats.date_format(local, "Y-m-d H:i")
    return _("Too many failed login attempts. Try again after %(time)s.") % {"time": when}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    username = get_client_username(request, credentials) or ""
    context = {
        "form": LoginForm(request, initial={"username": username}),
        "lockout_message": lockout_message(lockout_unlocks_at(request, credentials)),
        "next": request.POST.get("next", ""),
    }
    return render(
        request,
        "registration/login.html",
        context,
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
