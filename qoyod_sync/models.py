"""The Qoyod connection, remote ids of our customers and products, and each invoice's sync state.

An invoice's business status (issued, paid, void) lives in invoicing; whether and how it reached
Qoyod lives here, in QoyodInvoiceSync, whose moves are the table in qoyod_sync/push/state.py
(design.md §4); qoyod_sync/status.py derives from both what is shown and what may be done.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField
from core.messages import render
from garage.models import Branch, Customer, ServiceItem, SparePart
from invoicing.models import Invoice


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
    sales_account_id = models.PositiveIntegerField(_("sales account"), null=True, blank=True)
    cogs_account_id = models.PositiveIntegerField(
        _("cost of goods sold account"), null=True, blank=True
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

    @property
    def last_test_message(self) -> str:
        return render(self.last_test_code, self.last_test_params)

    @property
    def product_defaults_missing(self) -> bool:
        return None in (self.tax_id, self.unit_id, self.category_id)


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
    """Our customer's id in Qoyod, stored the moment Qoyod returns it."""

    class MatchedBy(models.TextChoices):
        VAT_NUMBER = "vat_number", _("VAT number")
        PHONE = "phone", _("phone")
        CREATED = "created", _("created by us")

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="qoyod_link")
    qoyod_id = models.PositiveIntegerField(_("Qoyod id"), db_index=True)
    matched_by = models.CharField(max_length=12, choices=MatchedBy)
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer in Qoyod")
        verbose_name_plural = _("customers in Qoyod")

    def __str__(self) -> str:
        return f"{self.customer} → {self.qoyod_id}"


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
    TEMPORARY = "temporary", _("Temporary Qoyod or network problem")
    KEY_REJECTED = "key_rejected", _("Qoyod refused the API key")
    OUTCOME_UNKNOWN = "outcome_unknown", _("No answer from Qoyod")


def retry_queued(state: str, invoice: Invoice) -> bool:
    """Whether a row in effective `state` of `invoice` waits in the retry queue.

    An unknown send stays queued whatever became of the invoice since: it may exist in Qoyod, and
    a person has to look. A failed one waits only while it is still meant for Qoyod: once the
    invoice is voided or "Requires Qoyod invoice" is unticked there is nothing left to retry.
    QoyodInvoiceSyncQuerySet.in_retry_queue is the same rule as a query.
    """
    if state == SyncState.UNKNOWN:
        return True
    return state == SyncState.FAILED and invoice.requires_qoyod and not invoice.is_void


class QoyodInvoiceSyncQuerySet(models.QuerySet["QoyodInvoiceSync"]):
    def in_retry_queue(self) -> QoyodInvoiceSyncQuerySet:
        """The rows retry_queued accepts (a sending row whose lease lapsed counts as unknown)."""
        unknown = Q(state=SyncState.UNKNOWN) | Q(
            state=SyncState.SENDING, lease_until__lte=timezone.now()
        )
        failed = Q(state=SyncState.FAILED, invoice__requires_qoyod=True) & ~Q(
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QoyodInvoiceSyncQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice sync with Qoyod")
        verbose_name_plural = _("invoice syncs with Qoyod")
        permissions = [("send_invoice", "Can send invoice drafts to Qoyod and retry them")]
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


class QoyodAttempt(models.Model):
    """One call to Qoyod made while sending an invoice: every write, and the reference lookup."""

    class Step(models.TextChoices):
        CUSTOMER = "customer", _("Create customer")
        PRODUCT = "product", _("Create product")
        INVOICE = "invoice", _("Create draft invoice")
        LOOKUP = "lookup", _("Look up by reference")
        DELETE = "delete", _("Delete draft")

    class Outcome(models.TextChoices):
        OK = "ok", _("Done")
        FOUND = "found", _("Found in Qoyod")
        ABSENT = "absent", _("Not in Qoyod")
        REJECTED = "rejected", _("Rejected")
        KEY_REJECTED = "key_rejected", _("API key refused")
        NOT_SENT = "not_sent", _("Not sent")
        MAYBE_SAVED = "maybe_saved", _("No answer: may be saved")
        FAILED = "failed", _("Failed")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="qoyod_attempts")
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

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.step}: {self.outcome}"

    @property
    def detail(self) -> str:
        return render(self.detail_code, self.detail_params)
