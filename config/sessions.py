"""The session engine: database sessions with an idle timeout that reading pages does not write.

The idle timeout is SESSION_COOKIE_AGE counted from the session's last save. Saving on every
request (SESSION_SAVE_EVERY_REQUEST) would write the session row on every page read, so
SessionIdleRefreshMiddleware pushes the expiry forward only once it is SESSION_REFRESH_SECONDS
old: a session ends between SESSION_COOKIE_AGE minus that interval and SESSION_COOKIE_AGE after
its last request. The store remembers the expiry it read, so deciding costs no query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class SessionStore(db.SessionStore):
    stored_expiry: datetime | None = None

    # db.SessionStore's own loading hook, which django-stubs does not declare.
    def _get_session_from_db(self) -> Session | None:
        session = super()._get_session_from_db()  # type: ignore[misc]
        self.stored_expiry = session.expire_date if session else None
        return session


class SessionIdleRefreshMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = request.session
        stored_expiry = getattr(session, "stored_expiry", None)
        if stored_expiry is not None and request.user.is_authenticated:
            fresh_for = timedelta(seconds=settings.SESSION_COOKIE_AGE) - timedelta(
                seconds=settings.SESSION_REFRESH_SECONDS
            )
            if stored_expiry - timezone.now() <= fresh_for:
                # SessionMiddleware saves it, with a new expiry and a new cookie.
                session.modified = True
        return response


def session_end_others(*, user: AbstractBaseUser, keep_session_key: str | None) -> int:
    """Delete the user's sessions except the one kept; returns how many ended."""
    others = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).exclude(
            session_key=keep_session_key
        )
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    Session.objects.filter(session_key__in=others).delete()
    return len(others)
