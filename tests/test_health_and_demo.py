from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from garage.models import Branch, Customer, JobCard, PartStock, Vehicle


@pytest.mark.django_db
def test_pages_need_login(client):
    response = client.get("/jobs/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/jobs/"


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True  # as `make run` has it
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = [m.objects.count() for m in (User, Branch, Customer, Vehicle, JobCard, PartStock)]
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert [m.objects.count() for m in (User, Branch, Customer, Vehicle, JobCard, PartStock)] == (
        counts
    )
    assert counts == [5, 2, 4, 4, 5, 10]
    assert set(JobCard.objects.values_list("status", flat=True)) == {
        "open", "in_progress", "completed", "cancelled",
    }  # fmt: skip
    assert set(User.objects.get(username="finance").groups.values_list("name", flat=True)) == {
        "Finance Manager"
    }


SEED_REFUSED = (
    "seed_demo creates demo users with a published password, a superuser among them, and DEBUG "
    "is off, so this looks like production. Nothing was written. On a demo or staging server run "
    "it with --i-know-this-is-not-production."
)


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert str(refused.value) == SEED_REFUSED
    assert [m.objects.count() for m in (User, Branch, Customer, Vehicle, JobCard, PartStock)] == [
        0, 0, 0, 0, 0, 0,
    ]  # fmt: skip


def test_seed_demo_from_the_command_line_exits_non_zero_with_debug_off(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "a-production-like-secret-key-for-this-test-only-0123456789",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }

    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 1
    assert done.stderr == f"CommandError: {SEED_REFUSED}\n"
    assert done.stdout == ""
    # Refused before the database was touched: not even the file exists.
    assert not (tmp_path / "db.sqlite3").exists()


@pytest.mark.django_db
def test_seed_demo_runs_with_debug_off_when_told_it_is_not_production(settings):
    settings.DEBUG = False

    call_command(
        "seed_demo",
        "--i-know-this-is-not-production",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )

    assert User.objects.filter(is_superuser=True).get().username == "admin"
    assert JobCard.objects.count() == 5
