"""The Qoyod connection, remote ids of our customers and products, and each invoice's sync state.

An invoice's business status (issued, paid, void) lives in invoicing; whether and how it reached
Qoyod lives here, in QoyodInvoiceSync, whose moves are the table in qoyod_sync/push/state.py
(design.md §4); qoyod_sync/status.py derives from both what is shown and what may be done.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, QuantityField, RateField
from core.messages import render
from garage.models import Branch, Customer, ServiceItem, SparePart
from invoicing.models import Invoice, InvoiceLine


class PaymentMethod(models.IntegerChoices):
    """ZATCA payment means codes Qoyod accepts on an invoice (qoyod-api.md §5.1)."""

    CASH = 10, _("Cash")
    CREDIT = 30, _("Credit (pay later)")
    BANK_TRANSFER = 42, _("Bank transfer")
    BANK_CARD = 48, _("Bank card")
    NOT_DEFINED = 1, _("Not defined")


class QoyodConnection(models.Model):
    """The one Qoyod company this garage keeps its books in."""

    # A constant unique column makes a second connection row impossible.
    singleton = models.BooleanField(default=True, unique=True, editable=False)
    base_url = models.URLField(_("Qoyod API address"), max_length=200)
    # Fernet ciphertext from qoyod_sync.crypto; the key itself is never stored or shown.
    api_key_encrypted = models.TextField(editable=False)
    api_key_last4 = models.CharField(max_length=4, editable=False)
    # Defaults Qoyod needs to create products (qoyod-api.md §4.1); chosen after a test.
    tax_id = models.PositiveIntegerField(_("tax for new products"), null=True, blank=True)
    unit_id = models.PositiveIntegerField(_("unit for new products"), null=True, blank=True)
    category_id = models.PositiveIntegerField(_("category for new products"), null=True, blank=True)
    # Strict tenants refuse a product without its sales account, and a tracked one without its
    # cost of goods sold account (qoyod-api.md §4.1, §10.5): pre-flight requires both.
    sales_account_id = models.PositiveIntegerField(_("sales account"), null=True, blank=True)
    cogs_account_id = models.PositiveIntegerField(
        _("cost of goods sold account"), null=True, blank=True
    )
    # The ZATCA payment means printed on every draft; a Phase-2 tenant refuses to approve an
    # invoice without it (qoyod-api.md §5.1).
    payment_method = models.PositiveSmallIntegerField(
        _("payment method on invoices"), choices=PaymentMethod, null=True, blank=True
    )
    # Where an inventory adjustment posts a count above (gain) or below (loss) Qoyod's stock;
    # Qoyod requires both (qoyod-api.md §4.4).
    stock_gain_account_id = models.PositiveIntegerField(
        _("account for stock count gains"), null=True, blank=True
    )
    stock_loss_account_id = models.PositiveIntegerField(
        _("account for stock count losses"), null=True, blank=True
    )
    # What the last Test connection read, so the mapping form offers Qoyod's own choices
    # without calling Qoyod on every page view.
    catalogue = models.JSONField(default=dict, blank=True, editable=False)
    last_tested_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField(null=True, editable=False)
    # What it found, as a Message (core/messages.py) shown in the reader's language, and
    # apart from it Qoyod's own words, never translated.
    last_test_code = models.CharField(max_length=60, blank=True, editable=False)
    last_test_params = models.JSONField(default=dict, blank=True, editable=False)
    last_test_qoyod_message = models.TextField(_("Qoyod's message"), blank=True, editable=False)
    # Set by the client the moment Qoyod answers 401/403 to any request, cleared by the next
    # answer it accepts: the banner for those who can fix the key reads only these.
    key_refused_at = models.DateTimeField(
        _("key refused at"), null=True, blank=True, editable=False
    )
    key_refused_request = models.CharField(
        _("request refused"), max_length=200, blank=True, editable=False
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Qoyod connection")
        verbose_name_plural = _("Qoyod connection")
        permissions = [("manage_connection", "Can manage the Qoyod connection and mappings")]

    def __str__(self) -> str:
        return self.base_url

    @property
    def api_key_hint(self) -> str:
        return f"••••{self.api_key_last4}" if self.api_key_last4 else ""

    @property
    def is_sandbox(self) -> bool:
        """Anything but the production address is a test company (the built-in sandbox)."""
        return self.base_url.rstrip("/") != settings.QOYOD_BASE_URL.rstrip("/")

    def invoice_url(self, qoyod_id: int) -> str:
        """Where a person opens a Qoyod invoice: Qoyod's web app, or the sandbox's own page."""
        return self._web_url(settings.QOYOD_WEB_INVOICE_URL, "invoice", qoyod_id)

    def customer_url(self, qoyod_id: int) -> str:
        return self._web_url(settings.QOYOD_WEB_CUSTOMER_URL, "customer", qoyod_id)

    def credit_note_url(self, qoyod_id: int) -> str:
        return self._web_url(settings.QOYOD_WEB_CREDIT_NOTE_URL, "credit-note", qoyod_id)

    def journal_entry_url(self, qoyod_id: int) -> str:
        return self._web_url(settings.QOYOD_WEB_JOURNAL_ENTRY_URL, "journal-entry", qoyod_id)

    def simple_bill_url(self, qoyod_id: int) -> str:
        return self._web_url(settings.QOYOD_WEB_SIMPLE_BILL_URL, "simple-bill", qoyod_id)

    def _web_url(self, pattern: str, anchor: str, qoyod_id: int) -> str:
        if self.is_sandbox:
            parts = urlsplit(self.base_url)
            return f"{parts.scheme}://{parts.netloc}/_sandbox/#{anchor}-{qoyod_id}"
        return pattern.format(id=qoyod_id)

    @property
    def last_test_message(self) -> str:
        return render(self.last_test_code, self.last_test_params)

    @property
    def product_defaults_missing(self) -> bool:
        return None in (self.tax_id, self.unit_id, self.category_id)

    @property
    def stock_accounts_missing(self) -> bool:
        return None in (self.stock_gain_account_id, self.stock_loss_account_id)


class BranchWarehouse(models.Model):
    """The Qoyod warehouse ("inventory") whose stock a branch sells from."""

    branch = models.OneToOneField(
        Branch, on_delete=models.CASCADE, related_name="qoyod_warehouse", verbose_name=_("branch")
    )
    qoyod_inventory_id = models.PositiveIntegerField(_("Qoyod warehouse"))
    name = models.CharField(_("warehouse name"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("branch warehouse")
        verbose_name_plural = _("branch warehouses")

    def __str__(self) -> str:
        return f"{self.branch.code} → {self.name or self.qoyod_inventory_id}"


class QoyodCustomerLink(models.Model):
    """Our customer's id in Qoyod, and the claim of the one send that may create it.

    Qoyod does not refuse a second customer with the same details (qoyod-api.md §3.3), so the
    row is claimed like an invoice sync (compare-and-set with a lease) before anything is
    created: a send that finds it being created waits briefly or stops. A create whose answer
    was lost leaves it unknown, and the next send looks the customer up before creating.
    """

    class State(models.TextChoices):
        LINKED = "linked", _("Linked")
        CREATING = "creating", _("Being created in Qoyod")
        UNKNOWN = "unknown", _("May already exist in Qoyod")

    class MatchedBy(models.TextChoices):
        VAT_NUMBER = "vat_number", _("VAT number")
        PHONE = "phone", _("phone")
        NAME = "name", _("exact name")
        CREATED = "created", _("created by us")

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="qoyod_link")
    state = models.CharField(max_length=10, choices=State, default=State.LINKED)
    qoyod_id = models.PositiveIntegerField(_("Qoyod id"), null=True, blank=True, db_index=True)
    matched_by = models.CharField(max_length=12, choices=MatchedBy, blank=True)
    # Creating: until when the claim holds and whose it is. Unknown: until when Qoyod may
    # still be saving the lost create, so a lookup that finds nothing before then proves nothing.
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer in Qoyod")
        verbose_name_plural = _("customers in Qoyod")
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="linked") | Q(qoyod_id__isnull=False),
                name="qoyodcustomerlink_linked_has_id",
            ),
            models.CheckConstraint(
                condition=Q(state="linked") | Q(lease_until__isnull=False),
                name="qoyodcustomerlink_claim_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} → {self.qoyod_id or self.get_state_display()}"


class QoyodProductLink(models.Model):
    """A service item's or spare part's product id in Qoyod (matched by SKU or created)."""

    class MatchedBy(models.TextChoices):
        SKU = "sku", _("SKU")
        CREATED = "created", _("created by us")

    service_item = models.OneToOneField(
        ServiceItem, on_delete=models.CASCADE, null=True, blank=True, related_name="qoyod_link"
    )
    spare_part = models.OneToOneField(
        SparePart, on_delete=models.CASCADE, null=True, blank=True, related_name="qoyod_link"
    )
    qoyod_id = models.PositiveIntegerField(_("Qoyod id"), db_index=True)
    sku = models.CharField(_("SKU"), max_length=40)
    matched_by = models.CharField(max_length=12, choices=MatchedBy)
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("product in Qoyod")
        verbose_name_plural = _("products in Qoyod")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(service_item__isnull=False, spare_part__isnull=True)
                    | Q(service_item__isnull=True, spare_part__isnull=False)
                ),
                name="qoyodproductlink_one_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.sku} → {self.qoyod_id}"


class SyncState(models.TextChoices):
    NOT_REQUIRED = "not_required", _("Not required")
    READY = "ready", _("Ready to send")
    SENDING = "sending", _("Being sent")
    DRAFT_CREATED = "draft_created", _("Qoyod draft created")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("May already exist in Qoyod")
    # Qoyod has a document with our number that is not this invoice: a person resolves it.
    REFERENCE_COLLISION = "collision", _("Number already used in Qoyod")


class FailureKind(models.TextChoices):
    NOT_CONNECTED = "not_connected", _("Qoyod is not connected")
    MAPPING_MISSING = "mapping_missing", _("Qoyod warehouse or account mapping missing")
    LINE_UNLINKED = "line_unlinked", _("A line is no longer linked to a service or part")
    CUSTOMER_INCOMPLETE = "customer_incomplete", _("Customer details missing")
    CUSTOMER_INACTIVE = "customer_inactive", _("Customer inactive in Qoyod")
    TOTALS = "totals", _("Invoice totals do not add up")
    SKU_TAKEN = "sku_taken", _("SKU used by another product in Qoyod")
    STOCK_SHORTFALL = "stock_shortfall", _("Not enough stock in Qoyod")
    REJECTED_STOCK = "rejected_stock", _("Qoyod rejected the stock data")
    REJECTED_VAT = "rejected_vat", _("Qoyod rejected the VAT data")
    REJECTED_ACCOUNTING = "rejected_accounting", _("Qoyod rejected the accounting data")
    REJECTED = "rejected", _("Qoyod rejected the invoice")
    REJECTED_CUSTOMER = "rejected_customer", _("Qoyod refused the customer")
    REJECTED_PRODUCT = "rejected_product", _("Qoyod refused a product")
    REFERENCE_COLLISION = "reference_collision", _("Invoice number used by another document")
    TEMPORARY = "temporary", _("Temporary Qoyod or network problem")
    KEY_REJECTED = "key_rejected", _("Qoyod refused the key")
    OUTCOME_UNKNOWN = "outcome_unknown", _("No answer from Qoyod")


def retry_queued(state: str, invoice: Invoice) -> bool:
    """Whether a row in effective `state` of `invoice` waits in the retry queue.

    An unknown send stays queued whatever became of the invoice since: it may exist in Qoyod, and
    a person has to look. A failed one waits only while it is still meant for Qoyod: once the
    invoice is voided or "Requires Qoyod invoice" is unticked there is nothing left to retry.
    A reference collision is listed like a failed one: the queue is the accountant's list of
    what needs a person, and its Retry only looks the number up again (never a blind create or
    link), so it is safe to press once the other document is renamed in Qoyod.
    QoyodInvoiceSyncQuerySet.in_retry_queue is the same rule as a query.
    """
    if state == SyncState.UNKNOWN:
        return True
    return state in _NEEDS_RETRY and invoice.requires_qoyod and not invoice.is_void


_NEEDS_RETRY = (SyncState.FAILED, SyncState.REFERENCE_COLLISION)


class QoyodInvoiceSyncQuerySet(models.QuerySet["QoyodInvoiceSync"]):
    def in_retry_queue(self, *, now: datetime.datetime | None = None) -> QoyodInvoiceSyncQuerySet:
        """The rows retry_queued accepts (a sending row whose lease lapsed by `now`, by default
        the present, counts as unknown)."""
        unknown = Q(state=SyncState.UNKNOWN) | Q(
            state=SyncState.SENDING, lease_until__lte=now or timezone.now()
        )
        failed = Q(state__in=_NEEDS_RETRY, invoice__requires_qoyod=True) & ~Q(
            invoice__status=Invoice.Status.VOID
        )
        return self.filter(unknown | failed)


class QoyodInvoiceSync(models.Model):
    """Where one invoice stands with Qoyod; claimed by one request at a time (design.md §4)."""

    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, related_name="qoyod_sync")
    state = models.CharField(
        _("Qoyod sync"), max_length=14, choices=SyncState, default=SyncState.READY, db_index=True
    )
    # While sending: when the claim lapses and which request holds it. A request that finds
    # its token replaced lost the claim and must not record an outcome.
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    qoyod_invoice_id = models.PositiveIntegerField(_("Qoyod invoice id"), null=True, blank=True)
    qoyod_total = MoneyField(_("total in Qoyod"), null=True, blank=True)
    # Qoyod's total minus ours, recorded when the draft is created (rounding, changed lines).
    total_difference = MoneyField(null=True, blank=True)
    failure_kind = models.CharField(max_length=20, choices=FailureKind, blank=True)
    # Why it failed, as a Message (core/messages.py) shown in the reader's language, and
    # apart from it Qoyod's own words, never translated.
    reason_code = models.CharField(max_length=60, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    qoyod_message = models.TextField(_("Qoyod's message"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_attempt_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last attempt by"),
    )
    draft_deleted_at = models.DateTimeField(_("draft deleted in Qoyod"), null=True, blank=True)
    # The parts Qoyod was short of at the warehouse when the draft was sent, as the
    # parameters of message "sync.stock_short" ({} when none), read by the row without HTTP.
    stock_shortage = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QoyodInvoiceSyncQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice sync with Qoyod")
        verbose_name_plural = _("invoice syncs with Qoyod")
        permissions = [("send_invoice", "Can send invoice drafts to Qoyod and retry them")]
        indexes = [
            # The retry queue's order and keyset pages (qoyod_sync.selectors.retry_queue).
            models.Index(fields=["last_attempt_at", "id"], name="invoicesync_retry_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="draft_created") | Q(qoyod_invoice_id__isnull=False),
                name="qoyodinvoicesync_draft_has_id",
            ),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(lease_until__isnull=False),
                name="qoyodinvoicesync_sending_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.state}"

    @property
    def reason(self) -> str:
        return render(self.reason_code, self.reason_params)

    @property
    def stock_shortage_text(self) -> str:
        return render("sync.stock_short", self.stock_shortage) if self.stock_shortage else ""

    @property
    def lease_expired(self) -> bool:
        return (
            self.state == SyncState.SENDING
            and self.lease_until is not None
            and self.lease_until <= timezone.now()
        )

    @property
    def effective_state(self) -> str:
        """The state to act on: a sending row whose lease lapsed may have reached Qoyod."""
        return SyncState.UNKNOWN if self.lease_expired else self.state

    @property
    def in_retry_queue(self) -> bool:
        return retry_queued(self.effective_state, self.invoice)


class QoyodSyncStateChange(models.Model):
    """One row per sync state change: who, when, from, to and why."""

    sync = models.ForeignKey(QoyodInvoiceSync, on_delete=models.CASCADE, related_name="history")
    from_state = models.CharField(max_length=14, choices=SyncState)
    to_state = models.CharField(max_length=14, choices=SyncState)
    reason_code = models.CharField(max_length=60, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    qoyod_message = models.TextField(_("Qoyod's message"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("sync state change")
        verbose_name_plural = _("sync state changes")

    def __str__(self) -> str:
        return f"{self.sync_id}: {self.from_state} -> {self.to_state}"

    @property
    def reason(self) -> str:
        return render(self.reason_code, self.reason_params)


class QoyodStockAdjustment(models.Model):
    """One Sync stock to Qoyod: an inventory adjustment setting Qoyod's stock of some parts at
    a branch's warehouse to our count there, claimed by one request at a time per branch.

    Quantities are totals, not changes, so posting one again after a lost answer cannot double
    the stock; a later sync reads Qoyod's stock first and posts only the parts that differ.
    """

    class State(models.TextChoices):
        SENDING = "sending", _("Being sent")
        DONE = "done", _("Stock set in Qoyod")
        IN_STEP = "in_step", _("Qoyod already had our count")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("May already be in Qoyod")
        SETTLED = "settled", _("Settled by a later stock sync")

    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    # The invoice whose parts were synced; empty for all parts of the branch.
    invoice = models.ForeignKey(
        Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    inventory_id = models.PositiveIntegerField(_("Qoyod warehouse"))
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.SENDING)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    # One row per part: {part, sku, name, product_id, ours, qoyod} (ours = the total sent,
    # qoyod = Qoyod's stock read just before).
    lines = models.JSONField(_("parts"), default=list, blank=True)
    qoyod_id = models.PositiveIntegerField(_("Qoyod id"), null=True, blank=True)
    reason_code = models.CharField(max_length=60, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    qoyod_message = models.TextField(_("Qoyod's message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock adjustment in Qoyod")
        verbose_name_plural = _("stock adjustments in Qoyod")
        constraints = [
            # The claim: a second sync of the same branch cannot start while one is running.
            models.UniqueConstraint(
                fields=["branch"],
                condition=Q(state="sending"),
                name="qoyodstockadjustment_one_sending_per_branch",
            ),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(lease_until__isnull=False),
                name="qoyodstockadjustment_sending_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch_id} @ {self.inventory_id}: {self.state}"

    @property
    def reason(self) -> str:
        return render(self.reason_code, self.reason_params)


class QoyodAttempt(models.Model):
    """One call to Qoyod made while sending an invoice (every write, and the reference lookup),
    while syncing stock (the adjustment) or a garage transaction (its journal entry)."""

    class Step(models.TextChoices):
        CUSTOMER = "customer", _("Create customer")
        PRODUCT = "product", _("Create product")
        INVOICE = "invoice", _("Create draft invoice")
        LOOKUP = "lookup", _("Look up by reference")
        DELETE = "delete", _("Delete draft")
        STOCK = "stock", _("Sync stock to Qoyod")
        JOURNAL = "journal", _("Create journal entry")
        CREDIT = "credit", _("Create draft credit note")
        VENDOR = "vendor", _("Create vendor")
        BILL = "bill", _("Create draft expense bill")

    class Outcome(models.TextChoices):
        OK = "ok", _("Done")
        FOUND = "found", _("Found in Qoyod")
        ABSENT = "absent", _("Not in Qoyod")
        NOT_OURS = "not_ours", _("Found, but not this invoice")
        REJECTED = "rejected", _("Rejected")
        KEY_REJECTED = "key_rejected", _("API key refused")
        NOT_SENT = "not_sent", _("Not sent")
        MAYBE_SAVED = "maybe_saved", _("No answer: may be saved")
        FAILED = "failed", _("Failed")
        # A delete that a GET afterwards did not prove: the draft may still be in Qoyod.
        UNCONFIRMED = "unconfirmed", _("Not confirmed")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, null=True, blank=True, related_name="qoyod_attempts"
    )
    adjustment = models.ForeignKey(
        QoyodStockAdjustment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attempts",
    )
    # By name: accounting builds on qoyod_sync, never the other way round.
    transaction = models.ForeignKey(
        "accounting.Transaction",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="qoyod_attempts",
    )
    step = models.CharField(_("step"), max_length=10, choices=Step)
    target = models.CharField(_("what"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    # What went wrong, as a Message (qoyod_sync/messages.py qoyod_error) shown in the reader's
    # language ...
    detail_code = models.CharField(max_length=60, blank=True)
    detail_params = models.JSONField(default=dict, blank=True)
    # ... and Qoyod's own words (from the response, never from our headers), never translated.
    message = models.TextField(_("Qoyod's message"), blank=True)
    qoyod_id = models.PositiveIntegerField(_("Qoyod id"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("Qoyod attempt")
        verbose_name_plural = _("Qoyod attempts")
        constraints = [
            models.CheckConstraint(
                condition=Q(invoice__isnull=False)
                | Q(adjustment__isnull=False)
                | Q(transaction__isnull=False),
                name="qoyodattempt_has_owner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.step}: {self.outcome}"

    @property
    def detail(self) -> str:
        return render(self.detail_code, self.detail_params)


class ReconciliationRun(models.Model):
    """One comparison of our Qoyod-bound invoices with Qoyod's, for an issue-date range."""

    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    started_at = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    invoices = models.PositiveIntegerField(_("invoices"), default=0)
    in_qoyod_once = models.PositiveIntegerField(_("in Qoyod once"), default=0)
    missing = models.PositiveIntegerField(_("missing"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    drift = models.PositiveIntegerField(_("drift"), default=0)
    orphans = models.PositiveIntegerField(_("orphans"), default=0)
    journal_entries = models.PositiveIntegerField(_("journal entries"), default=0)
    journal_missing = models.PositiveIntegerField(_("journal entries missing"), default=0)
    journal_drift = models.PositiveIntegerField(_("journal entries drifting"), default=0)
    journal_orphans = models.PositiveIntegerField(_("journal entries unknown to us"), default=0)
    bills = models.PositiveIntegerField(_("expense bills"), default=0)
    bills_missing = models.PositiveIntegerField(_("expense bills missing"), default=0)
    bills_duplicates = models.PositiveIntegerField(_("expense bills duplicated"), default=0)
    bills_drift = models.PositiveIntegerField(_("expense bills drifting"), default=0)
    bills_orphans = models.PositiveIntegerField(_("expense bills unknown to us"), default=0)
    requests = models.PositiveIntegerField(_("requests to Qoyod"), default=0)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        permissions = [("reconcile", "Can reconcile invoices with Qoyod")]

    def __str__(self) -> str:
        return f"{self.date_from}..{self.date_to}"


class ReconciliationFinding(models.Model):
    """One exception a reconciliation found, with what to do about it (a message code)."""

    class Kind(models.TextChoices):
        MISSING = "missing", _("Missing in Qoyod")
        DUPLICATE = "duplicate", _("Duplicated in Qoyod")
        DUPLICATE_CUSTOMER = "duplicate_customer", _("Customer created twice in Qoyod")
        TOTAL_DRIFT = "total_drift", _("Total differs")
        VAT_DRIFT = "vat_drift", _("VAT differs")
        CREDIT_NOTE_MISSING = "credit_note_missing", _("Credit note missing in Qoyod")
        CREDIT_NOTE_DUPLICATE = "credit_note_duplicate", _("Credit note duplicated in Qoyod")
        CREDIT_NOTE_DRIFT = "credit_note_drift", _("Credit note total differs")
        CREDIT_NOTE_ORPHAN = "credit_note_orphan", _("Credit note unknown to us")
        JOURNAL_MISSING = "journal_missing", _("Journal entry missing in Qoyod")
        JOURNAL_DRIFT = "journal_drift", _("Journal entry total differs")
        JOURNAL_ORPHAN = "journal_orphan", _("Journal entry unknown to us")
        BILL_MISSING = "bill_missing", _("Expense bill missing in Qoyod")
        BILL_DUPLICATE = "bill_duplicate", _("Expense bill duplicated in Qoyod")
        BILL_DRIFT = "bill_drift", _("Expense bill total differs")
        BILL_ORPHAN = "bill_orphan", _("Expense bill unknown to us")
        STATUS_DRIFT = "status_drift", _("Payment status differs")
        ORPHAN = "orphan", _("Unknown to us")

    run = models.ForeignKey(
        ReconciliationRun, on_delete=models.CASCADE, related_name="findings", verbose_name=_("run")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind)
    invoice = models.ForeignKey(
        "invoicing.Invoice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invoice"),
    )
    qoyod_ids = models.JSONField(_("Qoyod ids"), default=list, blank=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    code = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["kind", "reference", "id"]
        verbose_name = _("reconciliation finding")
        verbose_name_plural = _("reconciliation findings")

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"

    @property
    def advice(self) -> str:
        return render(self.code, self.params)

    @property
    def tab(self) -> str:
        """The Reconciliation page's tab that lists this finding."""
        if self.kind in JOURNAL_KINDS:
            return "journal"
        if self.kind in BILL_KINDS:
            return "bills"
        return "invoices"


class CreditNoteState(models.TextChoices):
    NOT_SENT = "not_sent", _("Not sent to Qoyod")
    SENDING = "sending", _("Being sent")
    DRAFT_CREATED = "draft_created", _("Qoyod draft created")
    FAILED = "failed", _("Send failed")
    UNKNOWN = "unknown", _("Outcome unknown")


# A credit note's statuses as Qoyod names them (qoyod-api.md §7.1).
CREDIT_NOTE_QOYOD_STATUSES = {
    "Draft": _("Draft"),
    "Unused": _("Approved, unused"),
    "Partially Used": _("Partially used"),
    "Used": _("Used"),
}


JOURNAL_KINDS = frozenset(
    {
        ReconciliationFinding.Kind.JOURNAL_MISSING,
        ReconciliationFinding.Kind.JOURNAL_DRIFT,
        ReconciliationFinding.Kind.JOURNAL_ORPHAN,
    }
)
CREDIT_NOTE_KINDS = frozenset(
    {
        ReconciliationFinding.Kind.CREDIT_NOTE_MISSING,
        ReconciliationFinding.Kind.CREDIT_NOTE_DUPLICATE,
        ReconciliationFinding.Kind.CREDIT_NOTE_DRIFT,
        ReconciliationFinding.Kind.CREDIT_NOTE_ORPHAN,
    }
)
BILL_KINDS = frozenset(
    {
        ReconciliationFinding.Kind.BILL_MISSING,
        ReconciliationFinding.Kind.BILL_DUPLICATE,
        ReconciliationFinding.Kind.BILL_DRIFT,
        ReconciliationFinding.Kind.BILL_ORPHAN,
    }
)


class QoyodCreditNote(models.Model):
    """Our credit note (CRN-YEAR-000123) against a Qoyod-approved invoice, and its send.

    Its moves are the table in qoyod_sync/credit.py; Qoyod holds the refund of money."""

    number = models.CharField(_("number"), max_length=25, unique=True, editable=False)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("invoice")
    )
    issuance_reason = models.CharField(_("reason"), max_length=255)
    issue_date = models.DateField(_("issue date"))
    total = MoneyField(_("total"))
    state = models.CharField(
        _("state"), max_length=14, choices=CreditNoteState, default=CreditNoteState.NOT_SENT
    )
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    qoyod_id = models.PositiveIntegerField(_("Qoyod id"), null=True, blank=True)
    # Qoyod's own status of the note (Draft, Unused, Partially Used, Used) as the last
    # reconciliation read it; blank until then.
    qoyod_status = models.CharField(_("status in Qoyod"), max_length=20, blank=True)
    qoyod_status_read_at = models.DateTimeField(_("read from Qoyod"), null=True, blank=True)
    reason_code = models.CharField(max_length=60, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    qoyod_message = models.TextField(_("Qoyod's message"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")

    def __str__(self) -> str:
        return self.number

    @property
    def reason(self) -> str:
        return render(self.reason_code, self.reason_params)

    @property
    def qoyod_status_label(self) -> str:
        """Qoyod's status in the reader's language; one we do not know yet, as Qoyod spells it."""
        return str(CREDIT_NOTE_QOYOD_STATUSES.get(self.qoyod_status, self.qoyod_status))


class QoyodCreditNoteLine(models.Model):
    """A credited line: all or part of the quantity of one line of the invoice."""

    credit_note = models.ForeignKey(QoyodCreditNote, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField(_("quantity"))
    unit_price = MoneyField(_("unit price"))
    discount = MoneyField(_("discount"), default=0)
    vat_rate = RateField(_("VAT rate"))
    line_total = MoneyField(_("total"))

    class Meta:
        ordering = ["invoice_line__position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="creditnoteline_qty_positive")
        ]

    def __str__(self) -> str:
        return f"{self.credit_note_id}: {self.invoice_line_id} x {self.quantity}"


class QoyodCreditNoteChange(models.Model):
    """One row per credit-note state change: who, when, from, to and why."""

    credit_note = models.ForeignKey(
        QoyodCreditNote, on_delete=models.CASCADE, related_name="history"
    )
    from_state = models.CharField(max_length=14, choices=CreditNoteState, blank=True)
    to_state = models.CharField(max_length=14, choices=CreditNoteState)
    reason_code = models.CharField(max_length=60, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    qoyod_message = models.TextField(_("Qoyod's message"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.credit_note_id}: {self.from_state} -> {self.to_state}"

    @property
    def reason(self) -> str:
        return render(self.reason_code, self.reason_params)
