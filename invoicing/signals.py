"""Invoice events other apps may listen to (the finance API's webhooks), sent inside the
service's transaction so a listener's rows commit or roll back with the change itself.

invoicing never imports its listeners: they connect here from their own AppConfig.ready().
"""

from __future__ import annotations

from django.dispatch import Signal

ISSUED = "invoice.issued"
VOIDED = "invoice.voided"
REISSUED = "invoice.reissued"
EVENTS = (ISSUED, VOIDED, REISSUED)

# Sent with `event` (one of EVENTS) and `invoice`.
invoice_event = Signal()
