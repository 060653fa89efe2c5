"""The pager's links on a rendered list page (templates/partials/pagination.html)."""

from __future__ import annotations

import html
import re

from django.http import HttpResponse


def pager_link(response: HttpResponse, rel: str) -> str | None:
    """The query string of the page's rel="next" or rel="prev" link, None if it has none."""
    found = re.search(rf'href="([^"]*)" rel="{rel}"', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def pager_count(response: HttpResponse) -> str:
    """The pager's "1–25 of 10,000+" line as text."""
    found = re.search(r'data-testid="pager-count">(.*?)</span>', response.content.decode())
    assert found is not None, "the page has no pager"
    return re.sub(r"<[^>]+>", "", found.group(1))
