"""The codes of the messages accounting stores (core/messages.py): configuration sync results."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.messages import register

register(
    "accounting.sync.done",
    _(
        "Configuration synced: %(accounts)s accounts (%(new)s new, %(updated)s updated, "
        "%(deactivated)s deactivated), %(warehouses)s warehouses, %(taxes)s taxes."
    ),
)
register("accounting.sync.failed", _("Configuration sync failed: %(error)s."))
register(
    "accounting.sync.key_refused",
    _("Configuration sync failed: Qoyod refused the API key. Check it in Settings → Qoyod."),
)
register("accounting.sync.connect_first", _("Connect Qoyod in Settings → Qoyod first."))
register(
    "accounting.sync.demo_chart",
    _(
        "Demo chart of accounts loaded (%(accounts)s accounts, the sandbox's default chart): "
        "the sandbox was not running. Sync configuration reads it from the sandbox."
    ),
)

# Why a transaction cannot be sent to Qoyod as a journal entry (accounting/sync.py pre-flight),
# and how a sync ended, in an accountant's words.
register("journal.not_verified", _("Not verified yet: verify it first."))
register("journal.synced", _("Already in Qoyod (journal entry %(id)s)."))
register("journal.being_sent", _("Being sent by another request: reload in a moment."))
register("journal.no_account", _("No account assigned: un-verify, assign one, verify again."))
register(
    "journal.account_inactive",
    _("%(account)s is inactive in Qoyod: un-verify, assign an active account, verify again."),
)
register(
    "journal.source_missing",
    _("No source account is set: the finance manager chooses it in Accounting settings."),
)
register(
    "journal.source_inactive",
    _(
        "The source account %(account)s is inactive in Qoyod: the finance manager chooses "
        "another in Accounting settings."
    ),
)
register(
    "journal.vat_account_missing",
    _(
        "It has %(vat)s SAR of VAT but no input-VAT account is set: the finance manager "
        "chooses it in Accounting settings."
    ),
)
register(
    "journal.vat_account_inactive",
    _(
        "The input-VAT account %(account)s is inactive in Qoyod: the finance manager "
        "chooses another in Accounting settings."
    ),
)
register(
    "journal.receipt_missing",
    _("No receipt, and the garage requires one: add it, or say why it is lost."),
)
register(
    "journal.unbalanced",
    _("The entry would not balance (debits %(debit)s, credits %(credit)s SAR): not sent."),
)
register("journal.preflight", _("Not sent: %(problems)s"))
register("journal.send", _("Sync to Qoyod"))
register("journal.created", _("Journal entry %(id)s created in Qoyod."))
register("journal.linked", _("Found in Qoyod as journal entry %(id)s and linked: nothing sent."))
register(
    "journal.maybe_saved",
    _(
        "Qoyod did not confirm the journal entry, so it may already exist there. Sync again: "
        "it looks for %(number)s first and never creates a second entry. (%(error)s)"
    ),
)
register(
    "journal.lookup_failed",
    _(
        "Could not check Qoyod for %(number)s, so it may still exist there; nothing was sent. "
        "Sync again in a moment. (%(error)s)"
    ),
)
register(
    "journal.account_refused",
    _(
        "Qoyod refused an account of the entry (inactive or deleted there): sync the "
        "configuration, then un-verify and assign an active account."
    ),
)
register(
    "journal.unbalanced_refused",
    _("Qoyod says the entry does not balance: check the amount and VAT."),
)
register("journal.rejected", _("Qoyod rejected the journal entry (HTTP %(status)s)."))
register(
    "journal.temporary",
    _("Qoyod or network problem; the entry was not sent. Sync again in a moment. (%(error)s)"),
)
register(
    "journal.key_refused",
    _(
        "Qoyod refused the API key. Ask the finance manager to fix the Qoyod connection "
        "(Settings → Qoyod), then sync again."
    ),
)
register("journal.not_connected", _("Qoyod is not connected: connect it in Settings → Qoyod."))
register("journal.lease_ran_out", _("This sync ran out of time before sending: sync again."))
register(
    "journal.never_finished",
    _("The sync that started at %(when)s never finished: it may be in Qoyod."),
)
register("journal.unexpected_error", _("Unexpected error: %(error)s"))

# Draft expense bills (accounting/sync.py), the garage's choice for expenses from a supplier
# with a VAT number.
register("bill.synced", _("Already in Qoyod (draft expense bill %(id)s)."))
register(
    "bill.tax_missing",
    _("No VAT tax is chosen for draft expense bills: choose it in the accounting settings."),
)
register(
    "bill.warehouse_missing",
    _("The branch has no Qoyod warehouse: a draft expense bill needs one (Settings → Qoyod)."),
)
register("bill.created", _("Draft expense bill %(id)s created in Qoyod: approve it there."))
register("bill.linked", _("Found in Qoyod as draft expense bill %(id)s and linked: nothing sent."))
register(
    "bill.vendor_failed",
    _(
        "The supplier could not be found or created as a vendor in Qoyod; no bill was sent. "
        "Sync again: it looks the VAT number up first. (%(error)s)"
    ),
)
