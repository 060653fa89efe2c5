"""reverse() once per URL name: the invoice list links every row to its invoice and its Qoyod
actions, and the menu has a link per entry; each is its name's URL with the row's id put in."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# An id no row has, to find where the id goes in the reversed URL.
_SLOT = 987654321987654321


@cache
def _parts(name: str, with_id: bool, prefix: str, urlconf: str) -> tuple[str, str]:
    if not with_id:
        return reverse(name, urlconf=urlconf), ""
    head, _slot, tail = reverse(name, args=[_SLOT], urlconf=urlconf).partition(str(_SLOT))
    return head, tail


def reverse_cached(name: str, pk: int | None = None) -> str:
    """reverse(name) or reverse(name, args=[pk]), from the URL reversed once for the name."""
    # Keyed by the script prefix and URLconf, which reverse() itself depends on.
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    head, tail = _parts(name, pk is not None, get_script_prefix(), urlconf)
    return head if pk is None else f"{head}{pk}{tail}"
