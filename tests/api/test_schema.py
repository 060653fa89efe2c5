"""The OpenAPI schema, checked by schemathesis against the app itself (in-process WSGI, no
network): every operation, once per scope, with every check; and the docs page serves it."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings

from api.models import Scope
from api.services import apiclient_create
from config.wsgi import application
from tests.invoicing_factories import InvoiceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _schema():
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


def test_the_schema_is_openapi_3_with_bearer_auth_and_money_as_strings():
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API client's token, `gms_` followed by its id and secret.",
        }
    }
    totals = schema["components"]["schemas"]["Totals"]["properties"]
    assert totals["total"]["type"] == "string"
    assert totals["total"]["pattern"] == r"^-?[0-9]+\.[0-9]{2}$"


def test_the_docs_page_is_vendored_and_has_no_inline_script_or_style():
    page = Client().get("/api/docs/").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "<style" not in page and "<script>" not in page
    assert "//cdn" not in page and "https://" not in page


@pytest.mark.parametrize("scope", Scope.values)
def test_schemathesis_finds_no_failure_with_any_scope(scope, require_postgres):
    InvoiceFactory()
    InvoiceFactory(requires_qoyod=True)
    _client, token = apiclient_create(
        name=f"Schemathesis {scope}", scopes=[scope], branch=None, expires_at=None, user=None
    )
    schema = _schema()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:
            # A key of its own per case: hypothesis repeats simple keys, and a key reused for
            # another body is rightly 422 (tests/api/test_sales.py covers that answer).
            key = (case.headers or {}).get("Idempotency-Key")
            if key is not None:
                case.headers["Idempotency-Key"] = f"{uuid.uuid4()}{key}"[:255]
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

        try:
            check()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert failures == []


def test_the_schema_generates_without_a_warning(tmp_path):
    # `check --deploy --fail-level WARNING` in production fails on any drf-spectacular warning,
    # such as two choice sets resolved to one enum name.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "s.yaml"))

    assert "CustomerKindEnum:" in (tmp_path / "s.yaml").read_text()
