"""The login page: branded, and in a trial (SHOW_DEMO_LOGINS) it lists the seeded demo users."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from core import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _demo_logins(html: str) -> list[tuple[str, str]]:
    return re.findall(
        r'data-testid="demo-login-[a-z]+" dir="ltr">([a-z]+)</button>\s*<span>([^<]+)</span>', html
    )


def test_a_trial_lists_the_demo_users_that_exist_with_their_role(settings):
    settings.SHOW_DEMO_LOGINS = True
    UserFactory(username="advisor", role=roles.ADVISOR)
    UserFactory(username="accountant", role=roles.ACCOUNTANT)
    UserFactory(username="someone", role=roles.ADMIN)

    html = Client().get("/login/").content.decode()

    assert 'data-testid="login-brand"' in html
    assert _demo_logins(html) == [("advisor", "Service Advisor"), ("accountant", "Accountant")]
    assert '<code dir="ltr">demo12345</code>' in html


def test_the_demo_users_roles_are_in_arabic_on_the_arabic_page(settings):
    settings.SHOW_DEMO_LOGINS = True
    UserFactory(username="technician", role=roles.TECHNICIAN)
    UserFactory(username="finance", role=roles.FINANCE_MANAGER)

    html = Client(headers={"Accept-Language": "ar"}).get("/login/").content.decode()

    assert _demo_logins(html) == [("technician", "الفني"), ("finance", "المدير المالي")]


def test_without_the_setting_no_demo_login_is_shown(settings):
    settings.SHOW_DEMO_LOGINS = False
    UserFactory(username="advisor", role=roles.ADVISOR)

    html = Client().get("/login/").content.decode()

    assert 'data-testid="login-brand"' in html
    assert "demo-logins" not in html
    assert "demo12345" not in html


def test_with_the_setting_but_no_demo_seeded_nothing_is_listed(settings):
    settings.SHOW_DEMO_LOGINS = True
    UserFactory(username="sara", role=roles.ADVISOR)

    html = Client().get("/login/").content.decode()

    assert "demo-logins" not in html
    assert "demo12345" not in html
