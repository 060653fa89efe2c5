"""Every named route of the project, and path arguments filled from a test's own objects."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


def named_routes(resolver: URLResolver | None = None, namespace: str = "") -> dict[str, URLPattern]:
    """Route name ("app:name", Django admin's under "admin:") → its pattern."""
    routes: dict[str, URLPattern] = {}
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(p for p in (namespace, entry.namespace or "") if p)
            routes |= named_routes(entry, inner)
        elif entry.name:
            routes[f"{namespace}:{entry.name}" if namespace else entry.name] = entry
    return routes


def route_kwargs(
    name: str, pattern: URLPattern, pk_of: dict[str, Any], other: dict[str, Any]
) -> dict[str, Any]:
    """A <pk> from `pk_of` by the route name's prefix; any other argument from `other`."""
    kwargs = {}
    for key in pattern.pattern.converters:
        if key == "pk":
            kwargs[key] = next(v for prefix, v in pk_of.items() if name.startswith(prefix + "_"))
        else:
            kwargs[key] = other[key]
    return kwargs
