"""The codes of the invoice-history notes payments writes (core/messages.py explains)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.messages import register
from payments.models import Payment, QoyodStatus

register(
    "payment.recorded",
    _("%(method)s payment of %(amount)s SAR"),
    labels={"method": Payment.Method},
)
register(
    "payment.read_back",
    _("Read back from Qoyod: %(status)s, paid %(paid)s SAR"),
    labels={"status": QoyodStatus},
)
