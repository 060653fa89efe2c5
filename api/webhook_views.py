"""Webhook endpoints over the API (`webhooks:manage`): register, list, delete. A client sees and
deletes only its own endpoints; the signing secret is in the answer to the registration only."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api import idempotency
from api.exceptions import field_errors
from api.idempotency import idempotent
from api.models import Scope, WebhookDelivery, WebhookEndpoint
from api.views import ApiView, _errors
from api.webhooks import webhookendpoint_create, webhookendpoint_delete
from invoicing.signals import EVENTS

# The shape only (plain http for a loopback receiver in a trial install); the rules on hosts
# are api.webhooks.url_refusal's.
URL_PATTERN = (
    r"^(https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*"
    r"|http://(127\.0\.0\.1|localhost))"
    r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?"
    r"(/[A-Za-z0-9._~/-]*)?$"
)
_EVENTS_HELP = (
    "`invoice.issued` (a new invoice), `invoice.voided` (an invoice was voided), "
    "`invoice.reissued` (the replacement of a voided invoice was issued)."
)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["event_id", "event", "status", "attempts", "last_status_code", "created_at",
                  "delivered_at"]  # fmt: skip


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS))
    recent_deliveries = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "created_at", "recent_deliveries"]

    def get_recent_deliveries(self, endpoint: WebhookEndpoint) -> list[dict]:
        deliveries = endpoint.deliveries.all()[:10]
        return WebhookDeliverySerializer(deliveries, many=True).data  # type: ignore[return-value]


class WebhookCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="Signs every delivery; shown only in this answer. Keep it."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookInSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=500,
        validators=[RegexValidator(URL_PATTERN)],
        help_text="https:// address of the receiver in the finance system, on a public host.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENTS), min_length=1, help_text=_EVENTS_HELP
    )


class WebhookList(ApiView):
    required_scope = Scope.WEBHOOKS_MANAGE

    @extend_schema(
        summary="This client's webhook endpoints",
        description="Each with its last ten deliveries (attempts and the receiver's status code).",
        responses={200: WebhookEndpointSerializer(many=True), **_errors(401, 403, 429)},
        tags=["webhooks"],
    )
    def get(self, request: Request) -> Response:
        endpoints = self.client.webhooks.prefetch_related("deliveries")
        return Response(WebhookEndpointSerializer(endpoints, many=True).data)

    @extend_schema(
        summary="Register a webhook endpoint",
        description=(
            "Deliveries are POSTs of JSON `{id, type, created, data}` sent after the change "
            "commits, retried with exponential backoff until a 2xx answer. Headers: "
            "`Garage-Event`, `Garage-Event-Id` (the same on every retry: deduplicate on it) and "
            "`Garage-Signature: t=<unix time>,v1=<hex>`, where v1 is the HMAC-SHA256 of "
            "`<t>.<body>` with the endpoint's secret; refuse a delivery whose t is old. "
            + _EVENTS_HELP
        ),
        parameters=[idempotency.PARAMETER],
        request=WebhookInSerializer,
        responses={201: WebhookCreatedSerializer, **_errors(400, 401, 403, 422, 429)},
        tags=["webhooks"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = WebhookInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            endpoint = webhookendpoint_create(client=self.client, **body.validated_data)
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(WebhookCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetail(ApiView):
    required_scope = Scope.WEBHOOKS_MANAGE

    @extend_schema(
        summary="Delete a webhook endpoint",
        description="No more deliveries go to it; its delivery log is deleted with it.",
        responses={
            204: None,
            **_errors(401, 403, 404, 429, e404="No such endpoint of this client."),
        },
        tags=["webhooks"],
    )
    def delete(self, request: Request, pk: int) -> Response:
        webhookendpoint_delete(endpoint=get_object_or_404(self.client.webhooks, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
