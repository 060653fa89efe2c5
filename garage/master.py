"""Which side keeps the customer master data: this app or the finance system (the seed's
"Deciding on Customer Master Data Location"), from settings.CUSTOMER_MASTER.

With the app as master, staff keep customers here and the finance system only reads them over
the API; with the finance system as master, it writes them over the API and staff cannot change
the master fields in the app.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

APP = "app"
FINANCE = "finance"

# What the master owns: who the customer is, for tax and the national address. The mobile and
# email stay the workshop's to correct at the counter.
MASTER_FIELDS = (
    "kind", "name_en", "name_ar", "vat_number", "cr_number", "building_number", "street",
    "district", "city", "postal_code",
)  # fmt: skip


def finance_is_master() -> bool:
    return settings.CUSTOMER_MASTER == FINANCE


def master_owner_text() -> str:
    """Who owns the master fields, as a sentence for staff and API clients."""
    if finance_is_master():
        return _("Customers' names, tax numbers and addresses are kept in the finance system.")
    return _("Customers are kept in this app; the finance system reads them.")
