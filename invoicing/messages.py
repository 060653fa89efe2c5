"""The codes of the invoice-history notes invoicing writes (core/messages.py explains)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.messages import register

register("invoice.reissue_of", _("Reissue of %(number)s"))
