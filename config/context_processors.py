from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch
from django.utils.translation import gettext_lazy as _

from core import roles
from core.reversing import reverse_cached
from qoyod_sync import selectors as qoyod_selectors

MANAGE_CONNECTION = "qoyod_sync.manage_connection"

# (label, url name, permission needed to see the entry)
_NAV = [
    (_("Jobs"), "garage:job_list", "garage.view_jobcard"),
    (_("Invoices"), "invoicing:invoice_list", "invoicing.view_invoice"),
    (_("Retry queue"), "qoyod_sync:retry_queue", "qoyod_sync.send_invoice"),
    (_("Reconciliation"), "qoyod_sync:reconciliation", "qoyod_sync.reconcile"),
    (_("Customers"), "garage:customer_list", "garage.view_customer"),
    (_("Vehicles"), "garage:vehicle_list", "garage.view_vehicle"),
    (_("Parts"), "garage:part_list", "garage.view_sparepart"),
    (_("Accounting"), "accounting:home", roles.SEE_ACCOUNTING),
    (_("Settings"), "settings_home", "garage.view_branch"),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    path = request.path
    items = []
    for label, name, perm in _NAV:
        if not user.has_perm(perm):
            continue
        try:
            url = reverse_cached(name)
        except NoReverseMatch:
            continue
        item = {"label": label, "url": url, "active": path.startswith(url)}
        if name == "qoyod_sync:retry_queue":
            # One capped count (selectors.QUEUE_CAP) per page, for those who may retry only.
            item["badge"] = qoyod_selectors.request_retry_queue_count(request)
            item["badge_cap"] = qoyod_selectors.QUEUE_CAP
        items.append(item)
    if user.has_perm(roles.ENTER_TRANSACTION) and not user.has_perm(roles.SEE_ACCOUNTING):
        # Technicians and advisors enter expenses for their branch without the Accounting menu.
        url = reverse_cached("accounting:transaction_create")
        items.append({"label": _("New expense"), "url": url, "active": path.startswith(url)})
    return {"nav_items": items}


def qoyod_key_banner(request: HttpRequest) -> dict:
    """The refused-key banner, for those who can fix the connection; no query for others."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm(MANAGE_CONNECTION):
        return {"qoyod_key_refused": None}
    return {"qoyod_key_refused": qoyod_selectors.connection_key_refused(request)}
