"""403, 404 and 500 inside the app's layout, in the reader's language (templates/4xx, 500)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path, reverse
from django.utils import translation

from config.urls import urlpatterns as app_urlpatterns
from core import roles
from tests.factories import UserFactory


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the database went away")


# This module is its own urlconf for the 500 test (pytest.mark.urls): the app's pages plus one
# that fails.
urlpatterns = [path("boom/", _boom), *app_urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_error_pages")]

PAGES = {
    ("403", "en"): ("You may not open this page", "Back to the home page", "Not allowed"),
    ("403", "ar"): ("لا يحق لك فتح هذه الصفحة", "العودة إلى الصفحة الرئيسية", "غير مسموح"),
    ("404", "en"): ("Page not found", "Back to the home page", "Page not found"),
    ("404", "ar"): ("الصفحة غير موجودة", "العودة إلى الصفحة الرئيسية", "الصفحة غير موجودة"),
    ("500", "en"): (
        "Something went wrong on our side",
        "Back to the home page",
        "Something went wrong",
    ),
    ("500", "ar"): ("حدث خطأ من جهتنا", "العودة إلى الصفحة الرئيسية", "حدث خطأ"),
}


@pytest.fixture(autouse=True)
def _production(settings) -> None:
    settings.DEBUG = False


def _client(role: str, language: str) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(role=role))
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: language})
    return client


def _get(client: Client, url: str, language: str):
    # The middleware activates the cookie's language for this thread; the override puts the
    # previous one back for the tests that follow.
    with translation.override(language):
        return client.get(url)


def _page(html: str) -> tuple[str, str, str, str]:
    direction = re.search(r'<html lang="(\w+)" dir="(\w+)">', html)
    heading = re.search(r'<h1 class="h3">([^<]*)</h1>', html)
    button = re.search(r'<a class="btn btn-primary" href="/">([^<]*)</a>', html)
    title = re.search(r"<title>([^·<]*) · ", html)
    assert direction and heading and button and title
    return (
        f"{direction[1]}/{direction[2]}",
        heading[1],
        button[1],
        title[1],
    )


@pytest.mark.parametrize("language", ["en", "ar"])
def test_forbidden_page_is_in_the_layout_with_the_users_menu(language):
    client = _client(roles.TECHNICIAN, language)

    response = _get(client, reverse("garage:customer_list"), language)

    assert response.status_code == 403
    heading, button, title = PAGES[("403", language)]
    expected_dir = "ar/rtl" if language == "ar" else "en/ltr"
    assert _page(response.text) == (expected_dir, heading, button, title)
    assert 'data-status="403"' in response.text
    assert 'data-testid="user-menu"' in response.text
    assert f'href="{reverse("garage:job_list")}"' in response.text


@pytest.mark.parametrize("language", ["en", "ar"])
def test_not_found_page_is_in_the_layout_with_the_users_menu(language):
    client = _client(roles.ADVISOR, language)

    response = _get(client, "/no-such-page/", language)

    assert response.status_code == 404
    heading, button, title = PAGES[("404", language)]
    expected_dir = "ar/rtl" if language == "ar" else "en/ltr"
    assert _page(response.text) == (expected_dir, heading, button, title)
    assert 'data-testid="user-menu"' in response.text
    assert f'href="{reverse("garage:customer_list")}"' in response.text


@pytest.mark.parametrize("language", ["en", "ar"])
def test_server_error_page_renders_without_a_request_context(language):
    client = _client(roles.ADVISOR, language)

    response = _get(client, "/boom/", language)

    assert response.status_code == 500
    heading, button, title = PAGES[("500", language)]
    expected_dir = "ar/rtl" if language == "ar" else "en/ltr"
    assert _page(response.text) == (expected_dir, heading, button, title)
    # Django renders it with no request: no user menu and nothing read from the database.
    assert 'data-testid="user-menu"' not in response.text
    assert "the database went away" not in response.text
