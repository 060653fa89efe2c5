"""Every page of the app, in English and Arabic, saved as a full-page screenshot to look at.

The pictures go to $SCREENSHOT_DIR, or test-artifacts/screenshots/ (neither is committed). Each
page must also load without a server error or a Content-Security-Policy complaint.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page

from core import roles
from invoicing.models import Invoice
from invoicing.views.document import SHARE_SALT
from payments.models import QoyodPaymentState
from qoyod_sync.models import FailureKind, QoyodInvoiceSync, SyncState
from tests.e2e.conftest import ARTIFACTS
from tests.factories import (
    PartLineFactory,
    PartStockFactory,
    ServiceItemFactory,
    ServiceLineFactory,
    UserFactory,
)
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory
from tests.routes import named_routes, route_kwargs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR") or ARTIFACTS / "screenshots")
# Pages that are not pages: files, JSON, redirects after an action, the admin (Django's own)
# and the API's browsable views.
NOT_A_PAGE = re.compile(r"^(admin:|api|healthz|metrics|logout|set_language)|pdf|poll|_status$")


def _world() -> tuple[dict, dict]:
    line = PartLineFactory(quantity=Decimal("2"))
    ServiceLineFactory(job=line.job)
    PartStockFactory(part=line.spare_part, branch=line.job.branch, quantity=Decimal("20"))
    invoice = InvoiceFactory()
    managed = InvoiceFactory(requires_qoyod=True)
    Invoice.objects.filter(pk=managed.pk).update(qoyod_managed=True)
    QoyodInvoiceSync.objects.create(
        invoice=managed, state=SyncState.DRAFT_CREATED, qoyod_invoice_id="7"
    )
    QoyodPaymentState.objects.create(
        invoice=managed,
        qoyod_status="partially_paid",
        qoyod_total=Decimal("276.00"),
        qoyod_paid=Decimal("100.00"),
        qoyod_due=Decimal("176.00"),
        refreshed_at=timezone.now(),
        checked_at=timezone.now(),
    )
    QoyodInvoiceSync.objects.create(
        invoice=InvoiceFactory(requires_qoyod=True),
        state=SyncState.FAILED,
        failure_kind=FailureKind.CUSTOMER_INCOMPLETE,
        reason_code="qoyod.error.rejected",
        reason_params={"status": 422},
        qoyod_message="Contact tax number must be 15 digits",
    )
    InvoiceFactory(requires_qoyod=True)
    CompletedJobFactory()
    pk_of = {
        "garage:job": line.job_id,
        "garage:customer": line.job.customer_id,
        "garage:vehicle": line.job.vehicle_id,
        "garage:part": line.spare_part_id,
        "garage:service": ServiceItemFactory().pk,
        "invoicing:invoice": managed.pk,
        "qoyod_sync:invoice": managed.pk,
        "payments:payment": invoice.pk,
    }
    other = {
        "line_pk": line.pk,
        "job_id": CompletedJobFactory().pk,
        "invoice_id": invoice.pk,
        "number": invoice.number,
        "token": signing.dumps(invoice.pk, salt=SHARE_SALT),
    }
    return pk_of, other


def _pages(pk_of: dict, other: dict) -> dict[str, str]:
    pages = {}
    for name, pattern in sorted(named_routes().items()):
        if NOT_A_PAGE.search(name):
            continue
        try:
            pages[name] = reverse(name, kwargs=route_kwargs(name, pattern, pk_of, other))
        except (KeyError, StopIteration):
            continue
    return pages


def _shoot(page: Page, url: str, path: Path) -> int:
    """Screenshot `url` if it answers with a page; its status either way."""
    # Asked first through the context's own request (same cookies): a POST-only route answers
    # 405 with no body, which Chromium would treat as a failed navigation.
    probe = page.request.get(url, max_redirects=0)
    if probe.status in (301, 302, 405) or "text/html" not in probe.headers.get("content-type", ""):
        return probe.status
    page.goto(url)
    page.screenshot(path=str(path), full_page=True)
    return probe.status


def test_every_page_in_english_and_arabic(page: Page, live_server):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="admin", role=roles.ADMIN, is_staff=True, is_superuser=True)
    pages = _pages(*_world())
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors = {}
    for language in ("en", "ar"):
        page.context.clear_cookies()
        page.context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        _shoot(page, "/login/", SHOTS / f"{language}-login.png")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "demo12345")
        page.press("#id_password", "Enter")
        page.wait_for_url(re.compile(r":\d+/$"))
        for name, url in pages.items():
            status = _shoot(page, url, SHOTS / f"{language}-{name.replace(':', '-')}.png")
            if status >= 500:
                errors[f"{language} {url}"] = status
        _shoot(page, "/no-such-page/", SHOTS / f"{language}-404.png")

    assert errors == {}
    assert len(list(SHOTS.glob("ar-*.png"))) >= 30
