from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from core import roles
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, password: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", "advisor")
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()


def test_a_user_changes_their_password_from_the_user_menu_then_a_lockout_names_the_time(
    page: Page, screenshot
):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="advisor", first_name="Sara", role=roles.ADVISOR)
    _log_in(page, "demo12345")
    expect(page).to_have_url(re.compile(r":\d+/$"))

    page.get_by_test_id("user-menu").click()
    page.get_by_role("link", name="Change password").click()
    page.fill("#id_old_password", "demo12345")
    page.fill("#id_new_password1", "Workshop-Counter-2026")
    page.fill("#id_new_password2", "Workshop-Counter-2026")
    page.get_by_role("button", name="Change password").click()

    expect(page.get_by_role("alert")).to_contain_text("Your password was changed.")
    assert User.objects.get(username="advisor").check_password("Workshop-Counter-2026")
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))

    for _ in range(5):
        _log_in(page, "demo12345")
    lockout = page.get_by_test_id("lockout")
    # The date is shown only when the lockout ends on another day.
    when = r"(\d{4}-\d\d-\d\d )?\d\d:\d\d"
    expect(lockout).to_contain_text(
        re.compile(rf"^Too many failed login attempts\. Try again after {when}\.$")
    )
    screenshot(page, "lockout")
