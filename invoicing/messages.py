"""The codes of the invoice-history notes invoicing writes (core/messages.py explains)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.messages import register

register("invoice.reissue_of", _("Reissue of %(number)s"))
register(
    "invoice.finance_processed",
    _("%(client)s processed it with reference %(reference)s"),
)
register(
    "invoice.finance_cancelled",
    _("%(client)s processed the cancellation with reference %(reference)s"),
)
register("invoice.finance_failed", _("%(client)s could not process it: %(reason)s"))
