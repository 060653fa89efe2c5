"""Where the Qoyod API key may be sent: the one check of a connection's base URL.

The key travels in a header to whatever address the connection stores, so the address is checked
when it is saved (the settings form and connection_save) and again every time the stored key is
loaded for a client (services.connection_reader and connection_writer), whatever wrote the row.

Allowed: https:// on a host in settings.QOYOD_ALLOWED_HOSTS (default port), and, only while
settings.QOYOD_SANDBOX_ENABLED, the origin of settings.QOYOD_SANDBOX_URL (the built-in sandbox).
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), parts.hostname or "", parts.port or default_port


def _is_sandbox(parts: SplitResult) -> bool:
    if not settings.QOYOD_SANDBOX_ENABLED:
        return False
    sandbox = _split(settings.QOYOD_SANDBOX_URL)
    return sandbox is not None and _origin(parts) == _origin(sandbox)


def _allowed_hosts() -> list[str]:
    return [host.strip().lower().rstrip(".") for host in settings.QOYOD_ALLOWED_HOSTS if host]


def _where_allowed() -> str:
    hosts = ", ".join(_allowed_hosts())
    if settings.QOYOD_SANDBOX_ENABLED:
        return _("%(hosts)s, or the sandbox at %(sandbox)s") % {
            "hosts": hosts,
            "sandbox": settings.QOYOD_SANDBOX_URL,
        }
    return hosts


def base_url_refusal(url: str) -> str | None:
    """Why the API key must not be sent to `url` (a message for the user), or None if it may."""
    parts = _split(url)
    if parts is None:
        return _("Enter the whole Qoyod API address, such as https://api.qoyod.com/2.0.")
    if parts.username is not None or parts.password is not None:
        return _("Enter the address without a user name or password.")
    if _is_sandbox(parts):
        return None
    if parts.scheme.lower() != "https":
        return _(
            "Use an https:// address: the API key must not travel in clear text. "
            "Allowed: %(allowed)s."
        ) % {"allowed": _where_allowed()}
    if parts.hostname not in _allowed_hosts() or parts.port not in (None, 443):
        return _("The API key may only be sent to Qoyod. Use an address on %(allowed)s.") % {
            "allowed": _where_allowed()
        }
    return None
