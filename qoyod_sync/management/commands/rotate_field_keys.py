"""Re-encrypt stored secrets under the first key of FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old one after it), deploy,
run this command, then remove the old key.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from qoyod_sync import crypto
from qoyod_sync.models import QoyodConnection


class Command(BaseCommand):
    help = "Re-encrypt the stored Qoyod API key with the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        rotated = 0
        with transaction.atomic():
            for connection in QoyodConnection.objects.select_for_update():
                try:
                    connection.api_key_encrypted = crypto.rotate(connection.api_key_encrypted)
                except crypto.FieldKeyError as exc:
                    # Nothing is written: the transaction rolls back every row.
                    raise CommandError(str(exc)) from None
                connection.save(update_fields=["api_key_encrypted"])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} stored secret(s) with the first key.")
