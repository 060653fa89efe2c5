"""HTTP half of .ci/smoke-production: drive a running gunicorn as a browser behind the TLS proxy.

Usage: SMOKE_PASSWORD=... smoke_production.py BASE_URL USERNAME
Exits non-zero, naming every failed check, unless the login page, a real login, the jobs list,
the invoices list and the manifest-hashed Bootstrap CSS all answer 200 with the security headers.
"""

from __future__ import annotations

import html
import os
import re
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import httpx

# The TLS-terminating proxy in front of gunicorn says the request came over https; with
# DJANGO_TRUSTED_PROXY_COUNT set, production trusts this header, so without it every page is a
# redirect to https.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # One year; preload only when DJANGO_HSTS_PRELOAD asks for it.
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Permissions-Policy": (
        "accelerometer=(), autoplay=(), browsing-topics=(), camera=(), "
        "display-capture=(), encrypted-media=(), geolocation=(), gyroscope=(), hid=(), "
        "idle-detection=(), magnetometer=(), microphone=(), midi=(), payment=(), "
        "publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), "
        "xr-spatial-tracking=()"
    ),
}
# Directive -> sources. django-csp writes the directives in no fixed order, which means nothing
# to a browser, so the header is compared as this mapping.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
READY_TIMEOUT_SECONDS = 30
VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"


class Smoke:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.https_origin = "https://" + urlsplit(self.base_url).netloc
        self.client = httpx.Client(base_url=self.base_url, timeout=10, follow_redirects=False)
        # Cookies are kept by hand: they are Secure (as they must be in production) and the
        # client, talking plain http to gunicorn, would rightly refuse to send them back.
        self.cookies: dict[str, str] = {}
        self.failures: list[str] = []

    def check(self, ok: bool, label: str) -> bool:
        print(("ok    " if ok else "FAIL  ") + label)
        if not ok:
            self.failures.append(label)
        return ok

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {**PROXY_HEADERS, **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.client.request(method, path, headers=headers, **kwargs)
        self.client.cookies.clear()
        for raw in response.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
                self.check(
                    bool(morsel["secure"]), f"{method} {path}: cookie {name} is marked Secure"
                )
        return response

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                response = self.client.get("/healthz", headers=PROXY_HEADERS)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.check(
            # Redis and the broker are listed too when REDIS_URL is set.
            response.status_code == 200
            and response.json()["status"] == "ok"
            and response.json()["database"] == "ok",
            f"GET /healthz: 200 with every service ok (got {response.status_code} {response.text})",
        )

    def check_page(self, response: httpx.Response, label: str) -> None:
        self.check(response.status_code == 200, f"{label}: 200 (got {response.status_code})")
        for name, expected in SECURITY_HEADERS.items():
            got = response.headers.get(name)
            self.check(got == expected, f"{label}: {name} is {expected!r} (got {got!r})")
        csp = response.headers.get("Content-Security-Policy", "")
        self.check(
            parse_csp(csp) == CONTENT_SECURITY_POLICY,
            f"{label}: Content-Security-Policy is {CONTENT_SECURITY_POLICY!r} (got {csp!r})",
        )

    def run(self, username: str, password: str) -> None:
        self.wait_until_ready()

        plain = self.client.get("/login/")
        self.check(
            plain.status_code == 301
            and plain.headers.get("Location") == self.https_origin + "/login/",
            f"GET /login/ over plain http: 301 to https (got {plain.status_code} "
            f"{plain.headers.get('Location')!r})",
        )

        login_page = self.request("GET", "/login/")
        self.check_page(login_page, "GET /login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
        css = re.search(r'href="([^"]*/bootstrap\.min\.[0-9a-f]{12}\.css)"', login_page.text)
        self.check(token is not None, "GET /login/: the form carries a CSRF token")
        self.check(css is not None, "GET /login/: links the manifest-hashed Bootstrap CSS")
        if token is None or css is None:
            return

        login = self.request(
            "POST",
            "/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token.group(1),
                "next": "",
            },
            headers={"Origin": self.https_origin, "Referer": self.https_origin + "/login/"},
        )
        self.check(
            login.status_code == 302 and login.headers.get("Location") == "/",
            f"POST /login/: 302 to the home page (got {login.status_code} "
            f"{login.headers.get('Location')!r})",
        )
        self.check("sessionid" in self.cookies, "POST /login/: sets the session cookie")

        for path in ("/", "/jobs/", "/invoices/"):
            page = self.request("GET", path)
            self.check_page(page, f"GET {path}")
            self.check(
                f'data-testid="user-menu">{html.escape(username)}</button>' in page.text,
                f"GET {path}: shows the logged-in user's menu in the navigation bar",
            )

        # The API docs run under the same CSP, from vendored files with hashed names.
        docs = self.request("GET", "/api/docs/")
        self.check_page(docs, "GET /api/docs/")
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text)
        self.check(
            any("swagger-ui-bundle" in url for url in assets),
            f"GET /api/docs/: loads the vendored Swagger UI (got {assets!r})",
        )
        for url in assets:
            answer = self.request("GET", url)
            self.check(answer.status_code == 200, f"GET {url}: 200 (got {answer.status_code})")

        css_url = css.group(1)
        stylesheet = self.request("GET", css_url)
        self.check(
            stylesheet.status_code == 200
            and stylesheet.headers.get("Content-Type", "").startswith("text/css"),
            f"GET {css_url}: 200 text/css (got {stylesheet.status_code} "
            f"{stylesheet.headers.get('Content-Type')!r})",
        )
        self.check(
            "immutable" in stylesheet.headers.get("Cache-Control", ""),
            f"GET {css_url}: cached as immutable (got {stylesheet.headers.get('Cache-Control')!r})",
        )
        # The manifest storage rewrites only the source map's name, to its hashed copy.
        source_map = re.search(
            r"sourceMappingURL=(bootstrap\.min\.css\.[0-9a-f]{12}\.map)", stylesheet.text
        )
        if self.check(source_map is not None, f"GET {css_url}: names its hashed source map"):
            vendored = (VENDOR / "bootstrap" / "bootstrap.min.css").read_text()
            self.check(
                stylesheet.text == vendored.replace("bootstrap.min.css.map", source_map.group(1)),
                f"GET {css_url}: the vendored file, source map name aside",
            )
            map_url = css_url.rsplit("/", 1)[0] + "/" + source_map.group(1)
            answer = self.request("GET", map_url)
            self.check(answer.status_code == 200, f"GET {map_url}: 200 (got {answer.status_code})")


def parse_csp(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def main() -> int:
    base_url, username = sys.argv[1:]
    smoke = Smoke(base_url)
    smoke.run(username, os.environ["SMOKE_PASSWORD"])
    if smoke.failures:
        print(f"{len(smoke.failures)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
