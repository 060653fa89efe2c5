from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (label, url name, permission needed to see the entry)
_NAV = [
    (_("Jobs"), "garage:job_list", "garage.view_jobcard"),
    (_("Invoices"), "invoicing:invoice_list", "invoicing.view_invoice"),
    (_("Customers"), "garage:customer_list", "garage.view_customer"),
    (_("Vehicles"), "garage:vehicle_list", "garage.view_vehicle"),
    (_("Parts"), "garage:part_list", "garage.view_sparepart"),
    (_("Accounting"), "accounting:home", "accounting.view_transaction"),
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
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "active": path.startswith(url)})
    return {"nav_items": items}
