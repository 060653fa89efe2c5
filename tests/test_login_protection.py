"""Login lockout (django-axes), the client address behind proxies, passwords and sessions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.security import client_ip
from core import roles
from tests.factories import UserFactory

PASSWORD = "demo12345"
NEW_PASSWORD = "Workshop-Counter-2026"


@pytest.fixture
def sara(db):
    return UserFactory(username="sara", role=roles.ADVISOR)


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.1", **headers):
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR=ip, headers=headers
    )


def _logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def _expected_lockout(last_failure: datetime, template: str) -> str:
    unlocks = timezone.localtime(last_failure + timedelta(minutes=15))
    if unlocks.date() == timezone.localdate():
        when = unlocks.strftime("%H:%M")
    else:
        when = unlocks.strftime("%Y-%m-%d %H:%M")
    return template % when


EN = "Too many failed login attempts. Try again after %s."
AR = "محاولات دخول فاشلة كثيرة. حاول مرة أخرى بعد %s."


def _last_failure() -> datetime:
    return AccessAttempt.objects.order_by("-attempt_time").first().attempt_time


def test_the_limits_default_to_five_failures_and_fifteen_minutes():
    limits = (settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME)

    assert limits == (5, timedelta(minutes=15))
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]


def test_a_username_is_locked_after_five_failures_from_any_addresses(client, sara):
    answers = [_login(client, "sara", "wrong", ip=f"10.0.1.{n}") for n in range(5)]

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    message = _expected_lockout(_last_failure(), EN)
    assert message in answers[-1].content.decode()
    assert message not in answers[-2].content.decode()

    locked = _login(client, "sara", PASSWORD, ip="10.0.9.9")

    assert locked.status_code == 429
    assert message in locked.content.decode()
    assert not _logged_in(client)
    # Attempts while locked out are not counted, so the time shown stays the same.
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 5


def test_an_address_is_locked_after_five_failures_on_any_usernames(client, sara):
    answers = [_login(client, f"guess{n}", "wrong", ip="10.0.2.1") for n in range(5)]

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    locked = _login(client, "sara", PASSWORD, ip="10.0.2.1")
    assert locked.status_code == 429
    assert _expected_lockout(_last_failure(), EN) in locked.content.decode()
    assert not _logged_in(client)

    elsewhere = _login(Client(), "sara", PASSWORD, ip="10.0.2.2")
    assert elsewhere.status_code == 302
    assert elsewhere["Location"] == "/"


def test_the_lockout_page_is_in_arabic_for_arabic_users(client, sara):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    for _ in range(5):
        answer = _login(client, "sara", "wrong")

    assert answer.status_code == 429
    assert _expected_lockout(_last_failure(), AR) in answer.content.decode()


def test_the_correct_password_works_again_after_the_cool_off(client, sara):
    for _ in range(5):
        _login(client, "sara", "wrong")
    assert _login(client, "sara", PASSWORD).status_code == 429

    # Fifteen minutes pass since the last failure.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    answer = _login(client, "sara", PASSWORD)

    assert answer.status_code == 302
    assert _logged_in(client)


def test_a_success_before_the_limit_resets_the_count(client, sara):
    for _ in range(4):
        _login(client, "sara", "wrong")
    assert _login(client, "sara", PASSWORD).status_code == 302
    assert AccessAttempt.objects.count() == 0

    client.post("/logout/")
    answers = [_login(client, "sara", "wrong") for _ in range(4)]
    success = _login(client, "sara", PASSWORD)

    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert success.status_code == 302


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(client, sara):
    answers = [
        _login(client, f"guess{n}", "wrong", ip="10.0.3.1", x_forwarded_for=f"203.0.113.{n}")
        for n in range(5)
    ]

    assert answers[-1].status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.0.3.1"}


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_client(client, sara, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        answer = _login(
            client, f"guess{n}", "wrong", ip="10.0.3.1", x_forwarded_for="198.51.100.7, 203.0.113.9"
        )

    assert answer.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    other_client = _login(Client(), "sara", PASSWORD, ip="10.0.3.1", x_forwarded_for="203.0.113.10")
    assert other_client.status_code == 302


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),
        (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),
        (2, "198.51.100.7, 203.0.113.9", "198.51.100.7"),
        (2, "203.0.113.9", "10.0.0.1"),
        (1, "", "10.0.0.1"),
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_client_ip(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_passwords_need_ten_characters_and_not_only_digits():
    with pytest.raises(ValidationError) as short:
        validate_password("Gar4ge!x")
    with pytest.raises(ValidationError) as numeric:
        validate_password("90817263544")

    assert short.value.messages == [
        "This password is too short. It must contain at least 10 characters."
    ]
    assert numeric.value.messages == ["This password is entirely numeric."]
    validate_password(NEW_PASSWORD)


def test_a_short_new_password_is_refused_and_nothing_changes(client, sara):
    client.force_login(sara)

    answer = client.post(
        "/password_change/",
        {"old_password": PASSWORD, "new_password1": "Gar4ge!x", "new_password2": "Gar4ge!x"},
    )

    assert answer.status_code == 200
    assert (
        "This password is too short. It must contain at least 10 characters."
        in answer.content.decode()
    )
    sara.refresh_from_db()
    assert sara.check_password(PASSWORD)


def test_the_user_menu_links_to_the_password_change_page(client, sara):
    client.force_login(sara)

    page = client.get("/jobs/").content.decode()

    assert 'href="/password_change/"' in page
    assert client.get("/password_change/").status_code == 200


def test_changing_the_password_ends_the_other_sessions(client, sara):
    other_user = UserFactory(username="khalid", role=roles.ADVISOR)
    counter = Client()
    counter.force_login(sara)
    colleague = Client()
    colleague.force_login(other_user)
    client.force_login(sara)

    answer = client.post(
        "/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert answer.status_code == 302
    assert answer["Location"] == "/"
    sara.refresh_from_db()
    assert sara.check_password(NEW_PASSWORD)
    assert client.get("/jobs/").status_code == 200
    assert counter.get("/jobs/")["Location"] == "/login/?next=/jobs/"
    assert colleague.get("/jobs/").status_code == 200
    owners = [s.get_decoded()[SESSION_KEY] for s in Session.objects.all()]
    assert sorted(owners) == sorted([str(sara.pk), str(other_user.pk)])


def test_sessions_default_to_eight_idle_hours_kept_after_the_browser_closes():
    assert settings.SESSION_ENGINE == "config.sessions"
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is False


def test_session_and_lockout_settings_come_from_the_environment():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SESSION_IDLE_MINUTES": "30",
        "DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE": "1",
        "DJANGO_LOGIN_FAILURE_LIMIT": "3",
        "DJANGO_LOGIN_COOLOFF_MINUTES": "60",
        "DJANGO_TRUSTED_PROXY_COUNT": "1",
    }
    script = (
        "import json; from django.conf import settings as s; print(json.dumps(["
        "s.SESSION_COOKIE_AGE, s.SESSION_EXPIRE_AT_BROWSER_CLOSE, s.AXES_FAILURE_LIMIT,"
        " s.AXES_COOLOFF_TIME.total_seconds(), s.TRUSTED_PROXY_COUNT]))"
    )

    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert json.loads(out) == [1800, True, 3, 3600.0, 1]


def _session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_reading_pages_with_a_fresh_session_writes_nothing(client, sara):
    client.force_login(sara)
    expiry = _session_row(client).expire_date

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/jobs/").status_code == 200

    writes = [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert _session_row(client).expire_date == expiry


def test_an_active_session_is_extended_once_its_expiry_is_stale(client, sara):
    client.force_login(sara)
    # Saved more than SESSION_REFRESH_SECONDS ago.
    stale = timedelta(seconds=settings.SESSION_COOKIE_AGE - settings.SESSION_REFRESH_SECONDS - 1)
    Session.objects.update(expire_date=timezone.now() + stale)

    before = timezone.now()
    answer = client.get("/jobs/")
    after = timezone.now()

    assert answer.status_code == 200
    age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert before + age <= _session_row(client).expire_date <= after + age
    assert answer.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE


def test_an_idle_session_past_its_expiry_is_logged_out(client, sara):
    client.force_login(sara)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))

    answer = client.get("/jobs/")

    assert answer.status_code == 302
    assert answer["Location"] == "/login/?next=/jobs/"


def test_expiry_at_browser_close_sends_a_session_cookie_without_lifetime(client, sara, settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True

    answer = _login(client, "sara", PASSWORD)

    assert answer.status_code == 302
    assert answer.cookies["sessionid"]["max-age"] == ""
    assert answer.cookies["sessionid"]["expires"] == ""
    age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert _session_row(client).expire_date > timezone.now() + age - timedelta(minutes=1)
