"""Every route has an entry in the role matrix, and every role gets exactly what it says.

Allowed means the view ran (any answer but 403 and the login redirect); denied means 403;
anonymous visitors are sent to the login page except on the public routes.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core import roles
from invoicing.views.document import SHARE_SALT
from tests.factories import (
    BranchFactory,
    PartLineFactory,
    PartStockFactory,
    ServiceItemFactory,
    UserFactory,
)
from tests.invoicing_factories import InvoiceFactory

ADV, TECH, ACC, FIN, ADM = "advisor", "technician", "accountant", "finance", "admin"
ROLE_OF = {
    ADV: roles.ADVISOR,
    TECH: roles.TECHNICIAN,
    ACC: roles.ACCOUNTANT,
    FIN: roles.FINANCE_MANAGER,
    ADM: roles.ADMIN,
}
EVERYONE = {ADV, TECH, ACC, FIN, ADM}
FRONT_DESK = {ADV, ADM}
INVOICE_READERS = {ADV, ACC, FIN, ADM}
ACCOUNTING = {ACC, FIN, ADM}
MANAGERS = {FIN, ADM}
WORKSHOP = {ADV, TECH, ADM}
PUBLIC = "public"

# url name -> (method, roles allowed, or PUBLIC for routes anonymous visitors may use)
MATRIX: dict[str, tuple[str, set[str] | str]] = {
    "home": ("GET", EVERYONE),
    "healthz": ("GET", PUBLIC),
    "login": ("GET", PUBLIC),
    "logout": ("POST", EVERYONE),
    "password_change": ("GET", EVERYONE),
    "set_language": ("POST", PUBLIC),
    "settings_home": ("GET", MANAGERS),
    "garage:job_list": ("GET", EVERYONE),
    "garage:job_create": ("GET", FRONT_DESK),
    "garage:job_detail": ("GET", EVERYONE),
    "garage:job_line_add": ("POST", WORKSHOP),
    "garage:job_line_remove": ("POST", WORKSHOP),
    "garage:job_start": ("POST", WORKSHOP),
    "garage:job_complete": ("POST", WORKSHOP),
    "garage:job_cancel": ("POST", WORKSHOP),
    "garage:customer_list": ("GET", EVERYONE),
    "garage:customer_create": ("GET", FRONT_DESK),
    "garage:customer_detail": ("GET", EVERYONE),
    "garage:customer_edit": ("GET", FRONT_DESK),
    "garage:vehicle_list": ("GET", EVERYONE),
    "garage:vehicle_create": ("GET", FRONT_DESK),
    "garage:vehicle_edit": ("GET", FRONT_DESK),
    "garage:part_list": ("GET", EVERYONE),
    "garage:part_create": ("GET", {ADM}),
    "garage:part_detail": ("GET", EVERYONE),
    "garage:part_edit": ("GET", {ADM}),
    "garage:part_receive": ("POST", {ADM}),
    "garage:service_list": ("GET", EVERYONE),
    "garage:service_create": ("GET", {ADM}),
    "garage:service_edit": ("GET", {ADM}),
    "invoicing:invoice_list": ("GET", INVOICE_READERS),
    "invoicing:needs_invoice": ("GET", INVOICE_READERS),
    "invoicing:invoice_generate": ("GET", INVOICE_READERS),
    "invoicing:invoice_preview": ("POST", INVOICE_READERS),
    "invoicing:invoice_line_row": ("POST", INVOICE_READERS),
    "invoicing:invoice_vehicle_options": ("GET", INVOICE_READERS),
    "invoicing:invoice_shared": ("GET", PUBLIC),
    "invoicing:invoice_detail": ("GET", INVOICE_READERS),
    "invoicing:invoice_edit": ("GET", INVOICE_READERS),
    "invoicing:invoice_void": ("POST", ACCOUNTING),
    "invoicing:invoice_void_and_reissue": ("POST", ACCOUNTING),
    "invoicing:invoice_reissue": ("POST", ACCOUNTING),
    "invoicing:invoice_send": ("POST", FRONT_DESK),
    "invoicing:invoice_print": ("GET", INVOICE_READERS),
    "payments:payment_create": ("GET", FRONT_DESK),
    "qoyod_sync:settings": ("GET", MANAGERS),
    "qoyod_sync:connection_test": ("POST", MANAGERS),
    "qoyod_sync:mappings": ("POST", MANAGERS),
    "qoyod_sync:retry_queue": ("GET", ACCOUNTING),
    "qoyod_sync:invoice_send": ("POST", ACCOUNTING),
    "qoyod_sync:invoice_retry": ("POST", ACCOUNTING),
    "qoyod_sync:invoice_draft_delete": ("POST", ACCOUNTING),
    # Reading payments back from Qoyod only reads: whoever sees invoices may refresh them.
    "qoyod_sync:invoice_refresh": ("POST", INVOICE_READERS),
    "qoyod_sync:invoices_refresh": ("POST", INVOICE_READERS),
    "qoyod_sync:refresh_stale": ("POST", INVOICE_READERS),
    "qoyod_sync:refresh_poll": ("GET", INVOICE_READERS),
}


def _named_routes(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    routes = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django admin checks is_staff and model permissions itself.
            inner = ":".join(p for p in (namespace, entry.namespace or "") if p)
            routes += _named_routes(entry, inner)
        elif entry.name:
            routes.append((f"{namespace}:{entry.name}" if namespace else entry.name, entry))
    return routes


def test_every_route_has_a_matrix_entry():
    names = {name for name, _pattern in _named_routes(get_resolver())}

    assert names - MATRIX.keys() == set(), "routes without a permission matrix entry"
    assert MATRIX.keys() - names == set(), "matrix entries for routes that no longer exist"


@pytest.fixture
def world(db):
    users = {name: UserFactory(username=name, role=ROLE_OF[name]) for name in ROLE_OF}
    branch = BranchFactory()
    line = PartLineFactory(job__branch=branch, job__technician=users[TECH])
    PartStockFactory(part=line.spare_part, branch=branch, quantity=Decimal("5"))
    invoice = InvoiceFactory()
    # The object a route's <pk> names, by the route's prefix.
    pk_of = {
        "garage:job": line.job_id,
        "garage:customer": line.job.customer_id,
        "garage:vehicle": line.job.vehicle_id,
        "garage:part": line.spare_part_id,
        "garage:service": ServiceItemFactory().pk,
        "invoicing:invoice": invoice.pk,
        "qoyod_sync:invoice": invoice.pk,
    }
    other = {
        "line_pk": line.pk,
        "job_id": line.job_id,
        "invoice_id": invoice.pk,
        "token": signing.dumps(invoice.pk, salt=SHARE_SALT),
    }
    return pk_of, other


def _kwargs(name: str, pattern: URLPattern, world) -> dict:
    pk_of, other = world
    kwargs = {}
    for key in pattern.pattern.converters:
        if key == "pk":
            kwargs[key] = next(v for prefix, v in pk_of.items() if name.startswith(prefix + "_"))
        else:
            kwargs[key] = other[key]
    return kwargs


def _is_allowed(response) -> bool:
    if response.status_code == 403:
        return False
    return not (response.status_code == 302 and response["Location"].startswith("/login/?next="))


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_role_matrix(name, world):
    method, allowed = MATRIX[name]
    pattern = dict(_named_routes(get_resolver()))[name]
    url = reverse(name, kwargs=_kwargs(name, pattern, world))
    outcome = {}
    for who in [None, *sorted(ROLE_OF)]:
        client = Client()
        if who:
            client.force_login(User.objects.get(username=who))
        response = client.get(url) if method == "GET" else client.post(url, {})
        outcome[who or "anonymous"] = _is_allowed(response)

    expected = {who: (allowed == PUBLIC or who in allowed) for who in ROLE_OF}
    expected["anonymous"] = allowed == PUBLIC
    assert outcome == expected
