"""Quirks real Qoyod tenants show that the sandbox's defaults do not (issue 11 item 7)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qoyod_sync.errors import (
    QoyodNotFound,
    QoyodRejected,
    QoyodUnavailable,
    normalise_error_body,
    reference_taken,
)
from tests.qoyod_sync.test_client_requests import Recorder, customer


def rejected(body: Any) -> QoyodRejected:
    return QoyodRejected("rejected", errors=normalise_error_body(body), status_code=422)


# ---- an empty list is a 404 with a JSON string, in whatever language -----------------------


@pytest.mark.parametrize(
    "body",
    [
        "We could not retrieve your customers, we found nothing.",
        "لم نتمكن من استرجاع العملاء، لم نجد شيئا.",
        "لا توجد نتائج",
    ],
)
def test_a_list_404_with_a_json_string_is_an_empty_list_in_any_language(body: str) -> None:
    recorder = Recorder(lambda r: httpx.Response(404, json=body))

    assert recorder.reader().list_customers() == []
    assert len(recorder.seen) == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(404, json={"error": "Not Found"}),
        httpx.Response(404, content=b"<html>we found nothing</html>"),
    ],
)
def test_a_list_404_that_is_not_a_json_string_is_an_error(response: httpx.Response) -> None:
    recorder = Recorder(lambda r: response)

    with pytest.raises(QoyodNotFound):
        recorder.reader().list_customers()


def test_a_single_record_404_with_a_json_string_is_not_found_not_empty() -> None:
    recorder = Recorder(lambda r: httpx.Response(404, json="لم نجد شيئا"))

    with pytest.raises(QoyodNotFound):
        recorder.reader().get_customer(5)


# ---- "reference already taken" in every shape ----------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"errors": {"reference": ["has already been taken"]}},
        {"errors": {"reference": "has already been taken"}},
        {"errors": {"reference": ["Reference has already been taken"]}},
        {"errors": ["Reference has already been taken"]},
        {"errors": "Reference has already been taken"},
        {"error": "Invalid resource", "messages": {"reference": ["has already been taken"]}},
        {"errors": {"reference": ["محجوز مسبقاً"]}},
        {"errors": {"reference": ["مستخدم من قبل"]}},
        {"errors": ["المرجع مستخدم من قبل"]},
        {"errors": ["الرقم المرجعي موجود مسبقا"]},
    ],
)
def test_reference_taken_is_recognised_in_every_body_shape(body: Any) -> None:
    assert reference_taken(rejected(body)) is True


@pytest.mark.parametrize(
    "body",
    [
        {"errors": {"sku": ["Reference is already taken by id 4619"]}},
        {"errors": {"reference": ["must end with a digit"]}},
        {"errors": {"reference": ["يجب أن ينتهي برقم"]}},
        {"errors": ["contact id is missing"]},
        {"errors": ["this contact 42 is not active"]},
        {"error": "Invalid resource", "messages": {"code": ["code is already taken by id 52"]}},
        {"errors": ["الاسم مستخدم من قبل"]},
    ],
)
def test_other_objections_are_not_reference_taken(body: Any) -> None:
    assert reference_taken(rejected(body)) is False


# ---- lists that fail past the first page fall back to cursor paging -------------------------


def test_a_list_that_fails_past_page_one_is_walked_by_id_and_every_id_comes_once(qoyod_sandbox):
    writer = qoyod_sandbox.writer()
    created = [writer.create_customer(name=f"Customer {n:03}").id for n in range(250)]
    qoyod_sandbox.faults.fail_deep_pages(status=500)
    qoyod_sandbox.requests.clear()

    ids = [c.id for c in qoyod_sandbox.reader().list_customers()]

    assert ids == created
    queries = [dict(r.query) for r in qoyod_sandbox.requests.find(method="GET")]
    # Page 1, page 2 (refused, retried), then by id from the last id of page 1.
    cursors = [q.get("q[id_gt]") for q in queries if "q[id_gt]" in q]
    assert cursors == [str(created[99]), str(created[199])]
    # page=1 with the cursor: endpoints whose paging is optional page only when both are sent.
    assert all(q["q[s]"] == "id asc" and q["page"] == "1" for q in queries if "q[id_gt]" in q)


def test_a_tenant_that_ignores_the_id_cursor_fails_the_walk_instead_of_repeating_rows():
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page", "1") != "1":
            return httpx.Response(500, json={"status": 500, "error": "Internal Server Error"})
        return httpx.Response(200, json={"customers": [customer(i) for i in range(1, 101)]})

    recorder = Recorder(respond)

    with pytest.raises(QoyodUnavailable):
        recorder.reader().list_customers()
