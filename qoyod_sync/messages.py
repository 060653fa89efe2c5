"""The codes of the sync reasons, sync history notes and read-back errors qoyod_sync stores.

How a message is stored and shown: core/messages.py. A code, once stored, keeps its
meaning; a changed sentence gets a new code (old rows keep rendering with the old one).
"""

from __future__ import annotations

from http import HTTPStatus

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.messages import LIST_SEPARATOR, Message, register
from garage.tax import TaxCategory
from qoyod_sync.errors import (
    BASE,
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

# Deleting the Qoyod draft of a voided invoice.
register(
    "delete.unconfirmed",
    _(
        "Qoyod did not confirm that draft %(id)s was deleted: it still holds it as a draft. "
        "Delete it in Qoyod, or try again."
    ),
)
register(
    "delete.unconfirmed_check",
    _(
        "Qoyod did not confirm that draft %(id)s was deleted: checking it afterwards failed "
        "(%(error)s). The draft is kept here until Qoyod confirms; try again."
    ),
)

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
register(
    "preflight.sales_account",
    _(
        "Choose the sales account for parts and services under Settings → Qoyod connection: "
        "Qoyod needs it to create %(items)s."
    ),
    separator=LIST_SEPARATOR,
)
register(
    "preflight.cogs_account",
    _(
        "Choose the cost of goods sold account for parts under Settings → Qoyod connection: "
        "Qoyod needs it to create %(parts)s."
    ),
    separator=LIST_SEPARATOR,
)
register(
    "preflight.payment_method",
    _(
        "Choose the payment method on invoices under Settings → Qoyod connection: without it "
        "the accountant cannot approve %(number)s in Qoyod (ZATCA phase 2)."
    ),
)
register(
    "preflight.product_name_short",
    _(
        "The %(language)s name of %(what)s %(ref)s, “%(name)s”, is shorter than %(minimum)s "
        "characters, and Qoyod refuses it under ZATCA phase 2: give it a longer name under "
        "Parts and services."
    ),
)
register(
    "preflight.standard_at_zero",
    _(
        "Line %(n)d, %(item)s, has 0%% VAT, but the item is standard-rated: enter its VAT "
        "(15%%), or mark the item zero-rated or exempt with its ZATCA reason under Parts and "
        "services."
    ),
)
register(
    "preflight.category_changed",
    _(
        "Line %(n)d, %(item)s, was invoiced as %(line_category)s but the item is now "
        "%(item_category)s: edit the invoice so its VAT matches the catalogue."
    ),
    labels={"line_category": TaxCategory, "item_category": TaxCategory},
)
register(
    "preflight.zero_tax_missing",
    _(
        "Qoyod has no 0%% tax for %(category)s items, needed for %(items)s: add it in Qoyod, "
        "then press Test connection under Settings → Qoyod connection."
    ),
    separator=LIST_SEPARATOR,
    labels={"category": TaxCategory},
)
register(
    "preflight.reason_missing",
    _(
        "Qoyod does not list the ZATCA reason %(reason)s that %(item)s is marked with: choose "
        "another reason for the item, or press Test connection under Settings → Qoyod "
        "connection if it was added in Qoyod."
    ),
)
register("preflight.language.ar", _("Arabic"))
register("preflight.language.en", _("English"))

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
# What Qoyod was short of when a draft was sent with draft_if_out_of_stock (on the row).
register("sync.stock_short", _("Qoyod is short at warehouse %(warehouse)s: %(detail)s."))
register("sync.stock_short_line", _("%(part)s: needs %(needed)s, has %(has)s"))

# Sync stock to Qoyod (qoyod_sync/stock.py).
register("step.stock_adjust", _("setting the stock"))
register(
    "stock.accounts_missing",
    _(
        "Choose the Qoyod accounts for stock count gains and losses in the Qoyod settings "
        "(Settings → Qoyod, mappings) before syncing stock."
    ),
)
register(
    "stock.no_parts",
    _("None of these parts is in Qoyod yet: send an invoice with them first, then sync stock."),
)
register(
    "stock.busy",
    _("Another stock sync for branch %(branch)s is running; try again in a moment."),
)
register(
    "stock.done",
    ngettext_lazy(
        "Qoyod's stock at %(warehouse)s set to our count for %(count)d part.",
        "Qoyod's stock at %(warehouse)s set to our count for %(count)d parts.",
        "count",
    ),
)
register(
    "stock.in_step",
    _("Qoyod already has our count at %(warehouse)s for every part; nothing was sent."),
)
register(
    "stock.not_in_qoyod",
    _("Not in Qoyod yet, so not synced: %(parts)s."),
    separator=LIST_SEPARATOR,
)
register(
    "stock.maybe_saved",
    _(
        "Qoyod did not confirm the stock adjustment, so it may already be in Qoyod. Sync stock "
        "again: it reads Qoyod's stock first, and the counts are totals, so nothing is "
        "doubled. (%(error)s)"
    ),
)
register(
    "stock.temporary",
    _(
        "Temporary Qoyod or network problem while %(doing)s; Qoyod's stock was not changed. "
        "Try again in a moment. (%(error)s)"
    ),
)
register(
    "stock.key_refused",
    _(
        "Qoyod refused the API key. Ask the finance manager to fix the Qoyod connection "
        "(Settings → Qoyod), then sync stock again."
    ),
)
register(
    "stock.settled",
    _("Stock sync %(id)s later read Qoyod's stock and set it to our count."),
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
        "Qoyod refused the key. Ask the finance manager to fix the Qoyod connection "
        "(Settings → Qoyod), then retry."
    ),
)
register(
    "send.sku_taken_retry",
    _(
        "Qoyod says the SKU %(sku)s of %(name)s is already used, but does not show that product "
        "yet, most likely because another send created it a moment ago. Retry in a moment: "
        "Retry links it; there is no need to change the SKU."
    ),
)
register(
    "send.customer_being_created",
    _(
        "Customer %(name)s: another send is creating this customer — retry in a moment. "
        "Nothing was sent for %(number)s."
    ),
)
register(
    "send.customer_maybe_saved",
    _(
        "Qoyod did not confirm creating the customer %(name)s, so they may exist in Qoyod "
        "already. Retry in a moment: Retry looks for them in Qoyod before creating anyone. "
        "(%(error)s)"
    ),
)
register(
    "send.customer_still_saving",
    _(
        "Qoyod may still be saving the customer %(name)s from the last send: it is not there "
        "yet. Retry in a moment; nothing was created twice."
    ),
)
register(
    "send.reference_collision",
    _(
        "Qoyod already has invoice id %(id)s with the number %(number)s, and it is not this "
        "invoice. In Qoyod: customer %(their_customer)s, total %(their_total)s SAR, dated "
        "%(their_date)s, %(their_lines)s lines. Here: customer %(our_customer)s, total "
        "%(our_total)s SAR, dated %(our_date)s, %(our_lines)s lines. Nothing was linked or "
        "created. In Qoyod, open invoice %(id)s and change its reference (or delete it if it is "
        "a stray draft), then press Retry here: Retry checks Qoyod again before creating "
        "anything."
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
            qoyod_message=describe_errors(_said(exc.errors)),
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


# An error body that is only the HTTP reason phrase ({"error": "Bad Request"}) says nothing the
# status does not: it is dropped rather than shown to a garage as Qoyod's words.
_REASON_PHRASES = frozenset(status.phrase.casefold() for status in HTTPStatus)


def _said(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    kept = {
        field: [m for m in messages if field != BASE or m.casefold() not in _REASON_PHRASES]
        for field, messages in errors.items()
    }
    return {field: messages for field, messages in kept.items() if messages}


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


# Credit notes (qoyod_sync/credit.py).
register("credit.issued", _("Credit note %(number)s issued against %(invoice)s: %(reason)s"))
register("credit.send", _("Send to Qoyod"))
register("credit.retry", _("Retry"))
register("credit.draft_created", _("Qoyod credit note id %(id)s"))
register(
    "credit.linked",
    _("Found in Qoyod by its number %(number)s and linked (Qoyod id %(id)s); nothing was resent."),
)
register(
    "credit.maybe_saved",
    _(
        "Qoyod's answer to credit note %(number)s was lost, so it may be saved there: "
        "%(error)s. Retry looks it up by its number before sending anything."
    ),
)
register(
    "credit.not_sent",
    _("Credit note %(number)s was not created in Qoyod: %(error)s. Retry when ready."),
)
register(
    "credit.lookup_failed",
    _("Could not check Qoyod for credit note %(number)s, so it may exist there: %(error)s"),
)
register(
    "credit.reference_not_found",
    _(
        "Qoyod says the number %(number)s is taken, but no credit note with it was found. "
        "Check Qoyod's credit notes, then retry."
    ),
)
register(
    "credit.not_ours",
    _(
        "Qoyod already holds credit note %(id)s with the number %(number)s, but it is not this "
        "one (invoice %(their_parent)s, total %(their_total)s SAR, %(their_lines)s lines; ours: "
        "invoice %(our_parent)s, %(our_total)s SAR, %(our_lines)s lines). Nothing was linked or "
        "created: resolve it in Qoyod, then retry."
    ),
)
register(
    "credit.unlinked",
    _(
        "Credit note %(number)s cannot be sent: %(what)s of invoice %(invoice)s has no link "
        "to Qoyod. Send or retry the invoice first."
    ),
)
register("credit.what.customer", _("the customer"))
register("credit.what.product", _("the product of line %(position)s"))
register("credit.what.invoice", _("the Qoyod invoice"))
register("credit.what.warehouse", _("the branch's Qoyod warehouse"))
register(
    "credit.never_finished",
    _("The send of %(when)s never finished, so it may have reached Qoyod."),
)
register("credit.lease_ran_out", _("The send ran out of time before the credit note was sent."))
register("credit.unexpected_error", _("The send stopped on an unexpected error: %(error)s"))
