"""Control endpoints under /_sandbox/: play the accountant or the customer, inject faults.

Pick the company with the API-KEY header (as the API does) or with "company": <number>
(in the JSON body or the query string). JSON in, JSON out:

    POST /_sandbox/invoices/<id>/approve                         → {"invoice": {...}}
    POST /_sandbox/invoices/<id>/payments  {"amount": "50.00", "account_id": 8,
                                            "date": "2025-03-03", "reference": "PAY-1"}
         every field optional; no amount pays the whole amount due
                                                       → {"receipt": {...}, "invoice": {...}}
    POST /_sandbox/invoices/<id>/delete                          → {"deleted": <id>}
    POST /_sandbox/products/<id>/stock     {"quantity": "5", "inventory_id": 1}
                                                                 → {"product": {...}}
    POST /_sandbox/customers/<id>/deactivate  (or /activate)     → {"contact": {...}}
    GET  /_sandbox/companies                                     → {"companies": [...]}
    GET|POST /_sandbox/faults   {"latency_ms": 50}
                                {"fail_next": {"count": 2, "status": 503, "method": "GET",
                                               "path": "/invoices", "retry_after": 5}}
                                {"drop_next": {"count": 1, "commit": true, "method": "POST"}}
                                {"hold_next": {"count": 1, "method": "POST", "path": "/invoices"}}
                                {"release": true}  (answer every held request)
                                {"rate_limit": {"per_minute": 10, "retry_after": 30}} (null: off)
                                {"clear": true}                  → the fault state
    GET|DELETE /_sandbox/requests                                → {"requests": [...]}
    POST /_sandbox/revoke   (API-KEY header)                     → {"revoked": "…abcd"}
    POST /_sandbox/reset    forget every company, fault and recorded request

Errors come back with the status and body the API would give (404, 422 ...).
GET /_sandbox/ is a small page doing the same for a person.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from qoyod_sync.sandbox import documents
from qoyod_sync.sandbox.company import Company
from qoyod_sync.sandbox.records import ApiError, money, parse_amount, parse_id, today

if TYPE_CHECKING:
    from qoyod_sync.sandbox.server import SandboxServer

PREFIX = "/_sandbox"
BANK_ACCOUNT_ID = 8
Answer = tuple[int, Any, dict[str, str]]

_ACTION = re.compile(r"^/_sandbox/(invoices|products|customers)/(\d+)/([a-z]+)$")


def handle(
    sandbox: SandboxServer,
    method: str,
    path: str,
    pairs: list[tuple[str, str]],
    raw: bytes,
    content_type: str,
    api_key: str,
) -> Answer:
    """Answer one control request."""
    query = dict(pairs)
    path = path.rstrip("/") or PREFIX
    try:
        if path == PREFIX and method == "GET":
            page = render_page(sandbox, parse_id(query.get("company")), query.get("msg", ""))
            return 200, page, {}
        if path.startswith(PREFIX + "/ui/") and method == "POST":
            return _form(sandbox, path.removeprefix(PREFIX + "/ui/"), raw)
        body = _json_body(raw, content_type)
        if path == PREFIX + "/companies":
            return 200, {"companies": [_company_summary(c) for c in sandbox.state.companies()]}, {}
        if path == PREFIX + "/faults":
            if method == "POST":
                sandbox.faults.configure(body)
            return 200, sandbox.faults.snapshot(), {}
        if path == PREFIX + "/requests":
            if method == "DELETE":
                sandbox.requests.clear()
            return 200, {"requests": [r.to_json() for r in sandbox.requests.all()]}, {}
        if path == PREFIX + "/reset" and method == "POST":
            sandbox.state.reset()
            sandbox.faults.clear()
            sandbox.requests.clear()
            return 200, {"reset": True}, {}
        if path == PREFIX + "/revoke" and method == "POST":
            if not api_key:
                raise ApiError(400, {"error": "send the API-KEY header of the key to revoke"})
            sandbox.state.revoke(api_key)
            return 200, {"revoked": sandbox.state.company_for_key(api_key).key_hint}, {}
        match = _ACTION.match(path)
        if match and method == "POST":
            company = _company(sandbox, api_key, body.get("company", query.get("company")))
            kind, record_id, action = match.group(1), int(match.group(2)), match.group(3)
            return 200, act(company, kind, record_id, action, body), {}
        raise ApiError(404, {"error": "Not Found"})
    except ApiError as error:
        return error.status, error.body, {}


def act(company: Company, kind: str, record_id: int, action: str, body: dict[str, Any]) -> Any:
    """Run one accountant/customer action; raises ApiError as the API would."""
    with company.lock:
        if (kind, action) == ("invoices", "approve"):
            return {"invoice": documents.approve_invoice(company, record_id).to_json()}
        if (kind, action) == ("invoices", "payments"):
            invoice = company.invoices.get(record_id)
            if invoice is None:
                raise ApiError(404, "We found nothing")
            amount = body.get("amount")
            receipt = documents.pay_invoice(
                company,
                {
                    "invoice_id": record_id,
                    "amount": invoice.due if amount in (None, "") else amount,
                    "account_id": body.get("account_id") or BANK_ACCOUNT_ID,
                    "date": body.get("date") or today(),
                    "reference": body.get("reference") or "",
                    "description": body.get("description") or "",
                },
            )
            return {"receipt": receipt.to_json(), "invoice": invoice.to_json()}
        if (kind, action) == ("invoices", "delete"):
            documents.delete_invoice(company, record_id)
            return {"deleted": record_id}
        if (kind, action) == ("products", "stock"):
            quantity = parse_amount(body.get("quantity"))
            if quantity is None:
                raise ApiError(422, {"errors": {"quantity": ["must be a number"]}})
            inventory_id = parse_id(body.get("inventory_id")) or company.default_warehouse.id
            product = company.set_stock(record_id, inventory_id, quantity)
            return {"product": company.product_json(product)}
        if kind == "customers" and action in ("deactivate", "activate"):
            status = "Inactive" if action == "deactivate" else "Active"
            return {"contact": company.set_customer_status(record_id, status).to_json()}
    raise ApiError(404, {"error": "Not Found"})


def _company(sandbox: SandboxServer, api_key: str, number: Any) -> Company:
    if api_key:
        return sandbox.state.company_for_key(api_key)
    company = sandbox.state.company_by_number(parse_id(number) or 0)
    if company is None:
        raise ApiError(400, {"error": "say which company: an API-KEY header or a company number"})
    return company


def _json_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise ApiError(
            400, {"error": f"expected a JSON object, got {content_type or 'no type'}"}
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, {"error": "expected a JSON object"})
    return body


def _company_summary(company: Company) -> dict[str, Any]:
    with company.lock:
        return {
            "company": company.number,
            "name": company.name,
            "key_hint": company.key_hint,
            "customers": len(company.customers),
            "products": len(company.products),
            "invoices": len(company.invoices),
        }


# ---- the accountant's page ------------------------------------------------------------------

_FORM_ACTIONS: dict[str, tuple[str, str, Callable[[dict[str, str]], dict[str, Any]]]] = {
    # form action → (kind, action, form fields → JSON body)
    "approve": ("invoices", "approve", lambda form: {}),
    "pay": (
        "invoices",
        "payments",
        lambda form: {"amount": form.get("amount"), "account_id": form.get("account_id")},
    ),
    "delete": ("invoices", "delete", lambda form: {}),
    "stock": (
        "products",
        "stock",
        lambda form: {"quantity": form.get("quantity"), "inventory_id": form.get("inventory_id")},
    ),
    "deactivate": ("customers", "deactivate", lambda form: {}),
    "activate": ("customers", "activate", lambda form: {}),
}


def _form(sandbox: SandboxServer, name: str, raw: bytes) -> Answer:
    form = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    number = parse_id(form.get("company"))
    company = sandbox.state.company_by_number(number or 0)
    spec = _FORM_ACTIONS.get(name)
    record_id = parse_id(form.get("id"))
    if company is None or spec is None or record_id is None:
        message = "Nothing done: unknown company, action or record."
    else:
        kind, action, to_body = spec
        try:
            act(company, kind, record_id, action, to_body(form))
            message = f"Done: {action} {kind.rstrip('s')} {record_id}."
        except ApiError as error:
            message = f"Refused ({error.status}): {_error_text(error.body)}"
    location = f"{PREFIX}/?" + urlencode({"company": number or "", "msg": message})
    return 303, b"", {"Location": location}


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        value = body.get("errors", body.get("messages", body.get("error", body)))
        return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return str(body)


def render_page(sandbox: SandboxServer, number: int | None, message: str) -> bytes:
    """The accountant's page for one company."""
    companies = sandbox.state.companies()
    company = sandbox.state.company_by_number(number or 0) or (companies[0] if companies else None)
    options = "".join(
        f'<option value="{c.number}"{" selected" if c is company else ""}>'
        f"{escape(c.name)} (key {escape(c.key_hint)})</option>"
        for c in companies
    )
    parts = [
        _HEAD,
        "<h1>Qoyod sandbox <span class=tag>not real Qoyod</span></h1>",
        "<p>A local stand-in for Qoyod. Act as the accountant (approve or delete drafts) or "
        "the customer (pay). Any API key used against <code>/2.0/</code> opens its own "
        "company.</p>",
    ]
    if message:
        parts.append(f'<p class="msg">{escape(message)}</p>')
    if company is None:
        parts.append("<p>No company yet: point the app (or any client) at this sandbox.</p>")
    else:
        parts.append(
            f'<form method=get action="{PREFIX}/">Company <select name=company>{options}</select> '
            "<button>Show</button></form>"
        )
        with company.lock:
            parts += [_invoices_html(company), _products_html(company), _customers_html(company)]
    parts.append("</body></html>")
    return "".join(parts).encode()


def _button(company: Company, action: str, record_id: int, label: str, extra: str = "") -> str:
    return (
        f'<form method=post action="{PREFIX}/ui/{action}">'
        f'<input type=hidden name=company value="{company.number}">'
        f'<input type=hidden name=id value="{record_id}">{extra}<button>{label}</button></form>'
    )


def _invoices_html(company: Company) -> str:
    rows = []
    for invoice in sorted(company.invoices.values(), key=lambda i: i.id, reverse=True):
        customer = company.customers.get(invoice.contact_id)
        actions = ""
        if invoice.status == "Draft":
            actions = _button(company, "approve", invoice.id, "Approve") + _button(
                company, "delete", invoice.id, "Delete draft"
            )
        elif invoice.due > 0:
            accounts = "".join(
                f'<option value="{a.id}"{" selected" if a.id == BANK_ACCOUNT_ID else ""}>'
                f"{escape(a.name_en)}</option>"
                for a in company.accounts.values()
                if a.group_type in ("Cash", "Bank", "Petty cash")
            )
            extra = (
                f'<input name=amount value="{money(invoice.due)}" size=8> '
                f"<select name=account_id>{accounts}</select> "
            )
            actions = _button(company, "pay", invoice.id, "Record payment", extra)
        rows.append(
            f"<tr><td>{invoice.id}</td><td>{escape(invoice.reference) or '—'}</td>"
            f"<td>{escape(customer.name if customer else str(invoice.contact_id))}</td>"
            f"<td>{escape(invoice.issue_date)}</td><td>{escape(invoice.status)}</td>"
            f"<td class=n>{money(invoice.total)}</td><td class=n>{money(invoice.paid)}</td>"
            f"<td class=n>{money(invoice.due)}</td><td>{actions}</td></tr>"
        )
    return _table(
        "Sales invoices",
        ("Id", "Reference", "Customer", "Issued", "Status", "Total", "Paid", "Due", ""),
        rows,
    )


def _products_html(company: Company) -> str:
    rows = []
    warehouses = "".join(
        f'<option value="{w.id}">{escape(w.name)}</option>' for w in company.warehouses.values()
    )
    for product in company.products.values():
        stock = "—"
        action = ""
        if product.track_quantity:
            stock = ", ".join(
                f"{escape(w.name)}: {money(company.stock_of(product.id, w.id))}"
                for w in company.warehouses.values()
            )
            extra = f"<select name=inventory_id>{warehouses}</select> <input name=quantity size=6> "
            action = _button(company, "stock", product.id, "Set stock", extra)
        rows.append(
            f"<tr><td>{product.id}</td><td>{escape(product.sku)}</td>"
            f"<td>{escape(product.name_en or product.name_ar)}</td><td>{escape(product.type)}</td>"
            f"<td>{stock}</td><td>{action}</td></tr>"
        )
    return _table("Products", ("Id", "SKU", "Name", "Type", "Stock", ""), rows)


def _customers_html(company: Company) -> str:
    rows = []
    for customer in company.customers.values():
        action = "deactivate" if customer.status == "Active" else "activate"
        rows.append(
            f"<tr><td>{customer.id}</td><td>{escape(customer.name)}</td>"
            f"<td>{escape(customer.phone_number)}</td><td>{escape(customer.tax_number)}</td>"
            f"<td>{escape(customer.status)}</td>"
            f"<td>{_button(company, action, customer.id, action.capitalize())}</td></tr>"
        )
    return _table("Customers", ("Id", "Name", "Phone", "VAT number", "Status", ""), rows)


def _table(title: str, headings: tuple[str, ...], rows: list[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    body = "".join(rows) or f'<tr><td colspan="{len(headings)}">None yet.</td></tr>'
    return f"<h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


_HEAD = """<!doctype html><html lang=en><head><meta charset=utf-8>
<title>Qoyod sandbox</title><style>
body{font:14px system-ui,sans-serif;margin:2rem;max-width:72rem;color:#222}
h1 .tag{font-size:.8rem;background:#f5c542;padding:.2rem .5rem;border-radius:.3rem}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:middle}
td.n{text-align:right;font-variant-numeric:tabular-nums}
form{display:inline;margin-right:.3rem}.msg{background:#eef6ff;padding:.5rem;border-radius:.3rem}
</style></head><body>"""
