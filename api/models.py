"""Finance systems that use the REST API: each one a client with a hashed token and scopes."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from garage.models import Branch
from invoicing.models import Invoice
from payments.models import Payment


class Scope(models.TextChoices):
    INVOICES_READ = "invoices:read", _("Read invoices and the unprocessed queue")
    INVOICES_WRITE = "invoices:write", _("Mark invoices processed or failed")
    SALES_WRITE = "sales:write", _("Report sales and payments")
    CUSTOMERS_READ = "customers:read", _("Read customers")
    CUSTOMERS_WRITE = "customers:write", _("Create and change customers")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Manage webhooks")


class ApiClient(models.Model):
    """A finance system's access. The token is `gms_<public_id>_<secret>`; only its SHA-256 is
    kept, and the public id finds the row without comparing against every hash."""

    name = models.CharField(_("name"), max_length=100)
    public_id = models.CharField(_("token id"), max_length=12, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    branch = models.ForeignKey(
        Branch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("branch"),
        help_text=_("Leave empty for every branch."),
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    last_ip = models.GenericIPAddressField(_("last address"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return self.name

    @property
    def token_prefix(self) -> str:
        """What the client's token starts with: enough to recognise it, nothing to use."""
        return f"gms_{self.public_id}_"

    def is_active_at(self, moment) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)

    @property
    def is_active(self) -> bool:
        return self.is_active_at(timezone.now())

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class IdempotencyKey(models.Model):
    """A POST's Idempotency-Key and the answer it got: the same key and body again get that
    answer back. The row is inserted in the request's own transaction, so a second request
    with the key waits on the unique index until the first commits (or rolls back)."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, the path and the parsed body.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotencykey_one_per_client")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.key}"


class Sale(models.Model):
    """A finance system's invoice for one of ours (the seed's Insert Sale)."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="sales")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    external_reference = models.CharField(_("finance system's invoice number"), max_length=100)
    due_date = models.DateField(_("due date"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
        constraints = [
            models.UniqueConstraint(fields=["client", "invoice"], name="sale_one_per_invoice"),
            models.UniqueConstraint(
                fields=["client", "external_reference"], name="sale_unique_reference"
            ),
        ]

    def __str__(self) -> str:
        return self.external_reference


class SalePayment(models.Model):
    """A payment the finance system reported, keyed by its own reference so a resent sale
    never records it twice; the payment itself is an ordinary payments.Payment."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="payments")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="+")
    external_reference = models.CharField(_("finance system's payment reference"), max_length=100)

    class Meta:
        ordering = ["id"]
        verbose_name = _("sale payment")
        verbose_name_plural = _("sale payments")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_reference"], name="salepayment_unique_reference"
            )
        ]

    def __str__(self) -> str:
        return self.external_reference


class WebhookEndpoint(models.Model):
    """A finance system's receiver for invoice events. The secret signs every delivery, so it
    is kept as it is (a hash could not sign); the API shows it once, when registered."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("address"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint, and what sending it has met so far."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The receiver deduplicates on this: a retry carries the same id.
    event_id = models.UUIDField(_("event id"), unique=True, editable=False)
    event = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True)
    # When a worker should next try it: at once, then after each retry's backoff. A pending
    # delivery overdue by WEBHOOK_REQUEUE_AFTER_SECONDS lost its task (the broker was down after
    # the commit, or at the retry) and the beat task queues it again.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # Held by the worker sending it, so no other message can send it at the same time.
    lease_until = models.DateTimeField(null=True, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhookdelivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id}"
