"""The stored Qoyod API key: encrypted with FIELD_ENCRYPTION_KEYS, rotatable, never leaked."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from qoyod_sync import crypto
from qoyod_sync.models import QoyodConnection
from qoyod_sync.services import ConnectionUnusable, connection_save, connection_writer

KEY = "a1b2c3d4e5f60718293a4b5c6"


def test_encrypted_value_decrypts_and_is_not_the_plaintext():
    token = crypto.encrypt(KEY)

    assert KEY not in token
    assert crypto.decrypt(token) == KEY


def test_a_wrong_key_raises_instead_of_returning_ciphertext(settings):
    token = crypto.encrypt(KEY)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(crypto.FieldKeyError):
        crypto.decrypt(token)


def test_a_malformed_key_setting_fails_loudly(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]

    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt(KEY)


def test_old_keys_still_decrypt_after_a_new_key_is_put_first(settings):
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    token = crypto.encrypt(KEY)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]

    assert crypto.decrypt(token) == KEY


@pytest.mark.django_db
def test_rotate_field_keys_lets_the_old_key_be_removed(settings):
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    connection_save(base_url="https://api.qoyod.com/2.0", api_key=KEY, user=None)
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert crypto.decrypt(QoyodConnection.objects.get().api_key_encrypted) == KEY


@pytest.mark.django_db
def test_rotate_field_keys_refuses_when_no_key_opens_the_value(settings):
    connection_save(base_url="https://api.qoyod.com/2.0", api_key=KEY, user=None)
    before = QoyodConnection.objects.get().api_key_encrypted
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_field_keys")

    assert QoyodConnection.objects.get().api_key_encrypted == before


@pytest.mark.django_db
def test_connection_stores_only_ciphertext_and_the_last_four(caplog):
    caplog.set_level(logging.DEBUG)

    connection = connection_save(base_url="https://api.qoyod.com/2.0", api_key=KEY, user=None)

    row = QoyodConnection.objects.filter(pk=connection.pk).values().get()
    assert all(KEY not in str(value) for value in row.values())
    assert (connection.api_key_last4, connection.api_key_hint) == ("4b5c6"[-4:], "••••b5c6")
    assert KEY not in caplog.text


@pytest.mark.django_db
def test_a_key_that_cannot_be_decrypted_never_reaches_the_client(settings):
    connection = connection_save(base_url="https://api.qoyod.com/2.0", api_key=KEY, user=None)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(ConnectionUnusable, match="enter the key again"):
        connection_writer(connection)
