"""`python manage.py qoyod_sandbox --port 8765`: serve the fake Qoyod until interrupted."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qoyod_sync.sandbox import SandboxServer
from qoyod_sync.sandbox.persist import StateFileError


class Command(BaseCommand):
    help = "Run the Qoyod sandbox: a local fake of Qoyod API 2.0 with an accountant page."

    # The sandbox keeps its state in memory or its own file: no database, so no checks or
    # migrations needed.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        # Defaults follow settings.QOYOD_SANDBOX_URL, where the demo connection points.
        where = urlsplit(settings.QOYOD_SANDBOX_URL)
        parser.add_argument(
            "--host", default=where.hostname or "127.0.0.1", help="address to listen on"
        )
        parser.add_argument(
            "--port", type=int, default=where.port or 8765, help="port to listen on"
        )
        parser.add_argument(
            "--strict-filters",
            action="store_true",
            help="refuse unknown q[...] filters with 400 instead of ignoring them as Qoyod does",
        )
        parser.add_argument(
            "--opening-stock",
            type=Decimal,
            default=Decimal("0"),
            help="stock every new tracked product starts with in each warehouse (Qoyod: 0)",
        )
        parser.add_argument(
            "--key",
            action="append",
            default=[],
            metavar="API_KEY",
            help="open a company for this API key (repeatable); other keys get Qoyod's 401",
        )
        parser.add_argument(
            "--accept-any-key",
            action="store_true",
            help="open a company for any API key on first use (the demo); Qoyod refuses them",
        )
        parser.add_argument(
            "--state",
            type=Path,
            metavar="FILE",
            help="keep the companies in this JSON file across restarts (default: in memory)",
        )
        parser.add_argument("--quiet", action="store_true", help="do not log each request")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sandbox = self._sandbox(options)
        except StateFileError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Qoyod sandbox: API at {sandbox.base_url}/, accountant page at "
            f"{sandbox.root_url}/_sandbox/ (Ctrl-C to stop)"
        )
        self.stdout.flush()
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Qoyod sandbox stopped.")

    def _sandbox(self, options: dict[str, Any]) -> SandboxServer:
        return SandboxServer(
            options["host"],
            options["port"],
            quiet=options["quiet"],
            strict_filters=options["strict_filters"],
            opening_stock=options["opening_stock"],
            accept_any_key=options["accept_any_key"],
            keys=options["key"],
            state_path=options["state"],
            # The page's "times out" switch answers well after the app has given up.
            late_answer_seconds=settings.QOYOD_READ_TIMEOUT + 10,
        )
