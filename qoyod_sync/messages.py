"""The codes of the sync reasons, sync history notes and read-back errors qoyod_sync stores.

How a message is stored and shown: core/messages.py. A code, once stored, keeps its
meaning; a changed sentence gets a new code (old rows keep rendering with the old one).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.messages import LIST_SEPARATOR, Message, register
from qoyod_sync.errors import (
    QoyodError,
    QoyodMaybeSaved,
    QoyodNotFound,
    QoyodNotSent,
    QoyodRateLimited,
    QoyodRejected,
    QoyodUnauthorised,
    describe_errors,
)

# What went wrong in one Qoyod call, said in our words; Qoyod's own are kept apart.
register("qoyod.error.rejected", _("Qoyod rejected the request (HTTP %(status)s)"))
register("qoyod.error.not_found", _("Qoyod found nothing there (HTTP 404)"))
register("qoyod.error.key_refused", _("Qoyod refused the API key (HTTP %(status)s)"))
register("qoyod.error.rate_limited", _("Qoyod is rate limiting requests"))
register("qoyod.error.not_sent", _("the request never reached Qoyod, so nothing was sent"))
register("qoyod.error.maybe_saved", _("Qoyod's answer was lost, so it may have saved the request"))
register("qoyod.error.server", _("Qoyod had a server error (HTTP %(status)s)"))
register("qoyod.error.unavailable", _("Qoyod or the network did not answer"))

register(
    "qoyod.key_unreadable",
    _(
        "The saved Qoyod API key cannot be read with this server's encryption keys. "
        "Ask the finance manager to enter the key again in the Qoyod settings."
    ),
)
register(
    "qoyod.address_refused",
    _(
        "The saved Qoyod API address %(url)s may not receive the API key. Ask the finance "
        "manager to enter Qoyod's address in the Qoyod settings."
    ),
)
register(
    "qoyod.no_key",
    _(
        "No Qoyod API key is saved for this address. Ask the finance manager to enter it in the "
        "Qoyod settings."
    ),
)
register("qoyod.not_connected", _("Qoyod is not connected."))

# The moves of a send (history notes).
register("sync.send", _("Send draft to Qoyod"))
register("sync.retry", _("Retry"))
register("sync.requires_qoyod_ticked", _("Requires Qoyod invoice was ticked."))
register("sync.never_finished", _("The send that started at %(when)s never finished."))
register("sync.draft_created", _("Qoyod invoice id %(id)s"))
register("sync.unexpected_error", _("Unexpected error: %(error)s"))

# Pre-flight, before any call: every problem found, one per line.
register("sync.preflight", "%(problems)s", separator="\n")
register("preflight.connect_first", _("Connect Qoyod in Settings → Qoyod first."))
register(
    "preflight.product_defaults",
    _("Choose the tax, unit and category for new products in the Qoyod settings."),
)
register(
    "preflight.no_warehouse",
    _("Branch %(branch)s has no Qoyod warehouse: choose one in the Qoyod settings."),
)
register(
    "preflight.customer_missing",
    _("Customer %(name)s is missing: %(fields)s."),
    separator=LIST_SEPARATOR,
)
register("preflight.field.name", _("name"))
register("preflight.field.mobile", _("mobile"))
register("preflight.field.vat_number", _("VAT number"))
register(
    "preflight.field.address", _("national address (building number, street, city, postal code)")
)
register("preflight.no_lines", _("The invoice has no lines."))
register(
    "preflight.line_unlinked",
    _(
        "Line %(n)d (%(text)s) is no longer linked to a service or part: edit "
        "the invoice and choose one."
    ),
)
register(
    "preflight.totals",
    _(
        "The lines add up to %(net)s + %(vat)s VAT, but the invoice says %(inv_net)s "
        "+ %(inv_vat)s: open the invoice and save it again."
    ),
)
register(
    "preflight.sku_clash",
    _("%(sku)s is both a service code and a part number; rename one of them."),
)

# The calls of a send.
register("step.customer_lookup", _("looking up the customer"))
register("step.customer_create", _("creating the customer"))
register("step.product_lookup", _("looking up products"))
register("step.product_create", _("creating product %(sku)s"))
register("step.stock_read", _("reading stock"))
register("step.invoice_create", _("creating the invoice"))
register("step.part", _("part"))
register("step.service", _("service"))
register(
    "send.lookup_failed",
    _("Could not check Qoyod for %(number)s, so it may still exist there: %(error)s"),
)
register(
    "send.customer_inactive_id",
    _(
        "Customer %(name)s is inactive in Qoyod (Qoyod id %(id)s): make them active "
        "in Qoyod, then retry."
    ),
)
register(
    "send.sku_wrong_kind",
    _(
        "SKU %(sku)s is used in Qoyod by “%(name)s” (Qoyod id %(id)s), which is a "
        "%(type)s, not our %(what)s “%(ours)s”. Change the SKU here or in Qoyod, then "
        "retry."
    ),
)
register(
    "send.sku_taken",
    _(
        "Qoyod will not create %(name)s: its SKU %(sku)s is already used by another "
        "Qoyod product. Change the SKU here or in Qoyod, then retry."
    ),
)
register(
    "send.part_gone",
    _(
        "Part %(name)s (Qoyod id %(id)s) no longer exists in Qoyod; retry to link or "
        "create it again."
    ),
)
register("send.stock_line", _("%(part)s: needs %(needed)s, Qoyod has %(has)s"))
register(
    "send.stock_shortfall",
    _(
        "Not enough stock in Qoyod warehouse %(warehouse)s — %(detail)s. Record the stock "
        "in Qoyod, then retry."
    ),
)
register(
    "send.reference_not_found",
    _(
        "Qoyod says %(number)s is already taken but does not find it by that "
        "reference; check Qoyod, then retry."
    ),
)
register(
    "send.lease_ran_out",
    _("The send took too long and stopped before writing to Qoyod; retry."),
)
register(
    "send.key_refused",
    _(
        "Qoyod refused the API key. Ask the finance manager to fix the Qoyod connection "
        "(Settings → Qoyod), then send again."
    ),
)
register("send.refused", _("Qoyod refused %(doing)s: %(error)s"))
register(
    "send.temporary",
    _(
        "Temporary Qoyod or network problem while %(doing)s; the invoice was not sent. "
        "Retry in a moment. (%(error)s)"
    ),
)
register(
    "send.maybe_saved",
    _(
        "Qoyod did not confirm the draft, so %(number)s may already exist in Qoyod. Retry "
        "looks it up by its number before creating anything. (%(error)s)"
    ),
)
register(
    "send.customer_inactive",
    _("Customer %(name)s is inactive in Qoyod: make them active in Qoyod, then retry."),
)
register("send.rejected", _("Qoyod rejected the invoice (HTTP %(status)s)."))

# What the last Test connection found, one sentence after another.
register("connection.summary", "%(parts)s", separator=" ")
register(
    "connection.key_refused",
    _(
        "Qoyod refused the API key. Check that it was copied whole from Qoyod (Settings → "
        "General settings → API key) and saved there."
    ),
)
register("connection.read_failed", _("Could not read from Qoyod: %(error)s"))
register("connection.connected", _("Connected: %(count)d warehouses read from Qoyod."))
register(
    "connection.defaults_chosen", _("Chosen for new products: %(what)s."), separator=LIST_SEPARATOR
)
register("connection.field.tax", _("tax"))
register("connection.field.unit", _("unit"))
register("connection.field.category", _("category"))
register(
    "connection.branches_mapped",
    ngettext_lazy(
        "%(count)d branch was given Qoyod's default warehouse.",
        "%(count)d branches were given Qoyod's default warehouse.",
        "count",
    ),
)

# Reading payment state back (the last error of a refresh).
register("readback.failed", _("Could not refresh from Qoyod: %(error)s"))
register(
    "readback.unknown_status",
    _("Qoyod reports the status “%(status)s”, which this app does not know."),
)


def qoyod_error(exc: QoyodError) -> Message:
    """A failed Qoyod call in our words; Qoyod's own (its field errors) as `qoyod_message`."""
    if isinstance(exc, QoyodRejected):
        return Message(
            "qoyod.error.rejected",
            status=exc.status_code,
            qoyod_message=describe_errors(exc.errors),
        )
    if isinstance(exc, QoyodNotFound):
        return Message("qoyod.error.not_found")
    if isinstance(exc, QoyodUnauthorised):
        return Message("qoyod.error.key_refused", status=exc.status_code)
    if isinstance(exc, QoyodRateLimited):
        return Message("qoyod.error.rate_limited")
    if isinstance(exc, QoyodNotSent):
        return Message("qoyod.error.not_sent")
    if isinstance(exc, QoyodMaybeSaved):
        return Message("qoyod.error.maybe_saved")
    if exc.status_code is not None and exc.status_code >= 500:
        return Message("qoyod.error.server", status=exc.status_code)
    return Message("qoyod.error.unavailable")


def with_detail(code: str, exc: QoyodError, **params: object) -> Message:
    """Message `code` whose %(error)s is what went wrong in the call, keeping Qoyod's words."""
    detail = qoyod_error(exc)
    return Message(code, error=detail, qoyod_message=detail.qoyod_message, **params)


def with_qoyod_words(text: str, qoyod_message: str) -> str:
    """One line for a flash or row message: our sentence, then Qoyod's words, labelled."""
    if not qoyod_message:
        return text
    label = _("Qoyod's message:")
    return f"{text} {label} “{qoyod_message}”"
