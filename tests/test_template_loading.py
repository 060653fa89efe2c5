"""Templates are parsed once per process, not once per request."""

from __future__ import annotations

from django.conf import settings
from django.template import engines
from django.template.loaders import app_directories, cached, filesystem


def test_the_cached_loader_parses_each_template_once_per_process():
    # With no "loaders" option Django wraps the project and app loaders in its cached loader
    # (in debug as well since Django 4.1): a list page draws its row template 25 times a
    # request, and production (config/settings.py, the same TEMPLATES) parses it once.
    assert "loaders" not in settings.TEMPLATES[0]["OPTIONS"]
    engine = engines["django"].engine  # type: ignore[attr-defined]
    [loader] = engine.template_loaders

    assert isinstance(loader, cached.Loader)
    assert [type(inner) for inner in loader.loaders] == [filesystem.Loader, app_directories.Loader]
    first = engine.get_template("partials/invoice_row.html")
    assert engine.get_template("partials/invoice_row.html") is first
