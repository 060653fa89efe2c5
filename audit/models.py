"""The audit trail: one append-only row per sensitive action.

Rows record domain events (a void, a Qoyod write and its outcome, a login), not field diffs of
arbitrary models, so `before` and `after` hold what the event changed in its own terms.
Nothing may change or remove a row once written: the model, its queryset and (on PostgreSQL) a
trigger refuse it.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):
    """An attempt to change or delete an audit row."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnly("audit rows cannot be updated")

    def delete(self) -> NoReturn:
        raise AppendOnly("audit rows cannot be deleted")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        QOYOD_CUSTOMER_CREATE = "qoyod.customer_create", _("Qoyod: create customer")
        QOYOD_PRODUCT_CREATE = "qoyod.product_create", _("Qoyod: create product")
        QOYOD_INVOICE_CREATE = "qoyod.invoice_create", _("Qoyod: create draft invoice")
        QOYOD_DRAFT_DELETE = "qoyod.draft_delete", _("Qoyod: delete draft")
        QOYOD_CREDIT_NOTE_CREATE = "qoyod.credit_note_create", _("Qoyod: create draft credit note")
        QOYOD_STOCK_ADJUST = "qoyod.stock_adjust", _("Qoyod: sync stock")
        QOYOD_CONNECTION_SAVE = "qoyod.connection_save", _("Qoyod connection saved")
        QOYOD_MAPPINGS_SAVE = "qoyod.mappings_save", _("Qoyod mappings saved")
        ACCOUNTING_SETTINGS_SAVE = "accounting.settings_save", _("Accounting settings saved")
        USER_CREATE = "user.create", _("User created")
        USER_CHANGE = "user.change", _("User changed")
        USER_GROUPS = "user.groups", _("User roles changed")
        USER_PASSWORD = "user.password", _("Password changed")
        LOGIN = "auth.login", _("Logged in")
        LOGIN_FAILED = "auth.login_failed", _("Login failed")
        LOCKED_OUT = "auth.locked_out", _("Locked out")
        INVOICE_VOID = "invoice.void", _("Invoice voided")
        INVOICE_REISSUE = "invoice.reissue", _("Invoice reissued")
        CREDIT_NOTE_ISSUE = "credit_note.issue", _("Credit note issued")
        PAYMENT_RECORD = "payment.record", _("Payment recorded")
        API_CLIENT_CREATE = "api.client_create", _("API client created")
        API_CLIENT_REVOKE = "api.client_revoke", _("API client revoked")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # No database constraint and no cascade: deleting a user must neither fail on nor change
    # the rows that name them; actor_label keeps who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action, db_index=True)
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("object type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), encoder=DjangoJSONEncoder, null=True, blank=True)
    after = models.JSONField(_("after"), encoder=DjangoJSONEncoder, null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.object_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("audit rows cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnly("audit rows cannot be deleted")
