from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from api.models import ApiClient, Sale, SalePayment, WebhookDelivery, WebhookEndpoint
from api.services import apiclient_revoke
from core.admin import ReadOnlyAdminMixin


@admin.register(ApiClient)
class ApiClientAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Clients are created on the app's API clients page, the one place that shows a new token;
    here they are looked up (by token id, as a leaked token names it) and revoked."""

    list_display = [
        "name", "public_id", "scopes", "branch", "expires_at", "revoked_at", "last_used_at",
        "last_ip", "created_by",
    ]  # fmt: skip
    list_filter = ["branch", "revoked_at"]
    search_fields = ["name", "public_id"]
    search_help_text = _("Name, or the token id: the 12 characters after gms_.")
    list_select_related = ["branch", "created_by"]
    exclude = ["token_hash"]
    readonly_fields = [
        "name", "public_id", "scopes", "branch", "expires_at", "revoked_at", "created_by",
        "created_at", "last_used_at", "last_ip",
    ]  # fmt: skip
    actions = ["revoke"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("api.change_apiclient")

    @admin.action(description=_("Revoke the selected clients' tokens"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            apiclient_revoke(client=client, user=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("Revoked."), messages.SUCCESS)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Registered by the finance system over the API; here to see, not to change."""

    list_display = ["url", "client", "events", "created_at"]
    list_filter = ["client"]
    list_select_related = ["client"]
    exclude = ["secret"]
    readonly_fields = ["client", "url", "events", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The delivery log: each event sent, its attempts and what the receiver answered."""

    list_display = ["event", "event_id", "endpoint", "status", "attempts", "last_status_code",
                    "last_error", "created_at", "delivered_at"]  # fmt: skip
    list_filter = ["status", "event"]
    search_fields = ["event_id", "endpoint__url"]
    list_select_related = ["endpoint"]
    readonly_fields = ["event", "event_id", "endpoint", "status", "attempts", "last_status_code",
                       "last_error", "created_at", "next_attempt_at", "delivered_at"]  # fmt: skip


@admin.register(Sale)
class SaleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Sales arrive over the API only; their payments are ordinary payments."""

    list_display = ["external_reference", "invoice", "client", "due_date", "created_at"]
    search_fields = ["external_reference", "invoice__number"]
    list_select_related = ["invoice", "client"]
    readonly_fields = ["client", "invoice", "external_reference", "due_date", "created_at",
                       "updated_at"]  # fmt: skip


@admin.register(SalePayment)
class SalePaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["external_reference", "sale", "payment", "client"]
    search_fields = ["external_reference", "sale__external_reference"]
    list_select_related = ["sale", "payment", "client"]
    readonly_fields = ["client", "sale", "payment", "external_reference"]
