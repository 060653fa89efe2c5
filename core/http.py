"""The request type of a signed-in page."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """A request that got past LoginRequiredMiddleware (or the admin's login): its user is
    signed in, never AnonymousUser, so it can be recorded as who did what."""

    user: User
