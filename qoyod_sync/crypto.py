"""Encryption of secrets stored in the database (the Qoyod API key).

Keys come from settings.FIELD_ENCRYPTION_KEYS, a list: the first encrypts, every key decrypts,
so a new key can be put first and `manage.py rotate_field_keys` re-encrypts the stored values
before the old key is removed (design.md §7). A value no configured key can open raises
FieldKeyError: the caller must never fall back to using the stored ciphertext as the secret.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables


class FieldKeyError(Exception):
    """A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS."""


# Error reports show each frame's local variables: the keys and the plaintext are hidden there.
@sensitive_variables("keys")
def _fernet() -> MultiFernet:
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError):
        # `from None`: the chained error could quote part of the key into a log.
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from None


@sensitive_variables("plaintext")
def encrypt(plaintext: str) -> str:
    """Ciphertext of `plaintext` under the first key."""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """The plaintext of a stored value; raises FieldKeyError if no configured key opens it."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise FieldKeyError(
            "The stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS: a key was "
            "removed before `manage.py rotate_field_keys` ran, or the keys are wrong."
        ) from None


def rotate(token: str) -> str:
    """The same secret re-encrypted under the first key; raises FieldKeyError as decrypt does."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise FieldKeyError(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS, so it cannot be "
            "rotated; put the old key back in the list and run the command again."
        ) from None
