"""The printable invoice as a PDF: the same template as the print page, laid out by WeasyPrint
(Pango and HarfBuzz shape the Arabic), with the fonts shipped under static/fonts."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template.loader import render_to_string

from invoicing import selectors
from invoicing.models import Invoice

if TYPE_CHECKING:
    from weasyprint import HTML  # type: ignore[import-untyped]


class PdfUnavailable(Exception):
    """WeasyPrint's system libraries (Pango) are missing on this machine."""


# The template's links are site-relative (/static/...); rendered against this base they reach
# the fetcher below, which serves them from disk. Nothing is ever fetched over the network.
_BASE_URL = "https://invoice.pdf.invalid/"


def _static_file(url: str) -> Path | None:
    prefix = _BASE_URL + settings.STATIC_URL.lstrip("/")
    if not url.startswith(prefix):
        return None
    name = url[len(prefix) :].split("?", 1)[0]
    if ".." in Path(name).parts:
        return None
    collected = Path(staticfiles_storage.path(name))
    if collected.is_file():
        return collected
    found = finders.find(name)
    return Path(found) if isinstance(found, str) else None


def _weasyprint() -> type[HTML]:
    # Imported on first use: WeasyPrint loads Pango when imported, and a machine without it
    # (the zero-setup demo on a bare system) still runs everything but the PDF.
    try:
        from weasyprint import HTML
    except OSError as exc:
        raise PdfUnavailable(str(exc)) from exc
    return HTML


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # type: ignore[import-untyped]

    class StaticFetcher(URLFetcher):
        """Static files from disk and inline data: URLs; anything else is refused."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = _static_file(url)
            if path is None:
                raise ValueError(f"the invoice PDF loads only static files, not {url}")
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})

    return StaticFetcher(allowed_protocols=("data",))


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """The invoice as PDF bytes; PdfUnavailable when this machine cannot make PDFs."""
    html_class = _weasyprint()
    html = render_to_string(
        "invoicing/print.html", {**selectors.invoice_print_context(invoice=invoice), "pdf": True}
    )
    document = html_class(string=html, base_url=_BASE_URL, url_fetcher=_fetcher())
    pdf = document.write_pdf()
    assert pdf is not None
    return pdf
