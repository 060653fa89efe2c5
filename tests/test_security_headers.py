"""The security headers every page carries; the production settings behind HSTS and the proxy."""

from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

# The expected policies live once, in the production smoke test that CI runs against gunicorn.
_SMOKE = runpy.run_path(str(Path(__file__).resolve().parents[1] / ".ci" / "smoke_production.py"))
CONTENT_SECURITY_POLICY = _SMOKE["CONTENT_SECURITY_POLICY"]
PERMISSIONS_POLICY = _SMOKE["SECURITY_HEADERS"]["Permissions-Policy"]
# Email bodies need inline styles (mail clients drop stylesheets) and are never served as pages.
NOT_PAGES = {"invoicing/email.html"}
INLINE_CODE = {
    "inline <script>": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "on*= handler": re.compile(r"<[^>]*\son[a-z]+=", re.I),
    "hx-on attribute": re.compile(r"\shx-on[:-]", re.I),
    "js: or javascript: value": re.compile(r"=[\"']\s*(js|javascript):", re.I),
    "<style> element": re.compile(r"<style[\s>]", re.I),
    "style= attribute": re.compile(r"<[^>]*\sstyle=", re.I),
}


def _parse_csp(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def test_a_page_carries_the_exact_content_security_and_permissions_policies():
    response = Client().get("/login/")

    assert response.status_code == 200
    assert _parse_csp(response["Content-Security-Policy"]) == CONTENT_SECURITY_POLICY
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY


def test_htmx_is_told_not_to_inject_styles_or_eval():
    page = Client().get("/login/").text

    config = (
        '{"includeIndicatorStyles": false, "allowEval": false,'
        ' "attributesToSettle": ["class", "width", "height"]}'
    )
    assert f"<meta name=\"htmx-config\" content='{config}'>" in page


def test_no_template_served_as_a_page_has_inline_code_or_style():
    found = []
    for path in sorted((settings.BASE_DIR / "templates").rglob("*.html")):
        name = str(path.relative_to(settings.BASE_DIR / "templates"))
        if name in NOT_PAGES:
            continue
        text = path.read_text()
        found += [
            f"{name}: {kind}" for kind, pattern in INLINE_CODE.items() if pattern.search(text)
        ]

    assert found == []


def _production_settings(**environ: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_HSTS", "DJANGO_TRUSTED_PROXY"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEYS="MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
        **environ,
    )
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'hsts': [s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD],"
        " 'proxy': s.SECURE_PROXY_SSL_HEADER, 'silenced': s.SILENCED_SYSTEM_CHECKS,"
        " 'static': str(s.STATIC_ROOT), 'media': str(s.MEDIA_ROOT)}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def test_production_has_a_year_of_hsts_without_preload_and_trusts_no_proxy_by_default():
    found = _production_settings()

    assert found["hsts"] == [31536000, True, False]
    # check --deploy would warn about the missing preload, which is a choice made here.
    assert found["silenced"] == ["security.W021"]
    # No proxy said to be there: a client's own X-Forwarded-Proto must not count as https.
    assert found["proxy"] is None


def test_preload_and_the_proxy_header_are_trusted_only_when_the_settings_say_so():
    found = _production_settings(DJANGO_HSTS_PRELOAD="true", DJANGO_TRUSTED_PROXY_COUNT="1")

    assert found["hsts"] == [31536000, True, True]
    assert found["silenced"] == []
    assert found["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_empty_static_and_media_roots_mean_the_defaults_not_the_checkout():
    found = _production_settings(DJANGO_STATIC_ROOT="", DJANGO_MEDIA_ROOT="")

    assert found["static"] == str(settings.BASE_DIR / "var" / "staticfiles")
    assert found["media"] == str(settings.BASE_DIR / "var" / "media")
