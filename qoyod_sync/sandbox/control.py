"""Control endpoints under /_sandbox/: play the accountant or the customer, inject faults.

Pick the company with the API-KEY header (as the API does) or with "company": <number>
(in the JSON body or the query string). JSON in, JSON out:

    POST /_sandbox/invoices/<id>/submit                          → {"invoice": {...}} (awaiting)
    POST /_sandbox/invoices/<id>/approve                         → {"invoice": {...}}
    POST /_sandbox/invoices/<id>/payments  {"amount": "50.00", "account_id": 8,
                                            "date": "2025-03-03", "reference": "PAY-1"}
         every field optional; no amount pays the whole amount due
                                                       → {"receipt": {...}, "invoice": {...}}
    POST /_sandbox/invoices/<id>/delete                          → {"deleted": <id>}
    POST /_sandbox/products/<id>/stock     {"quantity": "5", "inventory_id": 1}
                                                                 → {"product": {...}}
    POST /_sandbox/customers/<id>/deactivate  (or /activate)     → {"contact": {...}}
    POST /_sandbox/accounts/<id>/deactivate, /journal_entries/<id>/approve,
         /companies/<number>/approval {"on": true}    (the chart and journal: ledger.py)
    GET  /_sandbox/companies                                     → {"companies": [...]}
    GET  /_sandbox/files/<company>/invoice-<id>.pdf   the PDF GET /2.0/invoices/<id>/pdf links
    GET|POST /_sandbox/faults   {"latency_ms": 50}
                                {"fail_next": {"count": 2, "status": 503, "method": "GET",
                                               "path": "/invoices", "retry_after": 5}}
                                {"drop_next": {"count": 1, "commit": true, "method": "POST"}}
                                {"hold_next": {"count": 1, "method": "POST", "path": "/invoices"}}
                                  ("release_after": 25 answers each held one after 25 s)
                                {"release": true}  (answer every held request)
                                {"rate_limit": {"per_minute": 10, "retry_after": 30}} (null: off)
                                {"fail_deep_pages": {"status": 500}}  (lists past page 1; null: off)
                                {"clear": true}                  → the fault state
    GET|DELETE /_sandbox/requests                                → {"requests": [...]}
    POST /_sandbox/keys     (API-KEY header)        → {"company": 1, "key_hint": "…abcd"}
         open a company for the key, as generating a key in Qoyod would; other keys get 401
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

from qoyod_sync.sandbox import documents, ledger, notes, printing
from qoyod_sync.sandbox.company import Company
from qoyod_sync.sandbox.records import ApiError, money, parse_amount, parse_id, today

if TYPE_CHECKING:
    from qoyod_sync.sandbox.server import SandboxServer

PREFIX = "/_sandbox"
# Files the API links to (GET /invoices/{id}/pdf → pdf_file): PREFIX/files/<company>/<name>.
FILES = PREFIX + "/files"
_FILE = re.compile(r"^/_sandbox/files/(\d+)/invoice-(\d+)\.pdf$")
BANK_ACCOUNT_ID = 8
Answer = tuple[int, Any, dict[str, str]]

_ACTION = re.compile(
    r"^/_sandbox/(invoices|credit_notes|products|customers|accounts|journal_entries|companies)"
    r"/(\d+)/([a-z]+)$"
)


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
        if (file := _FILE.match(path)) and method == "GET":
            company = sandbox.state.company_by_number(int(file[1]))
            if company is None:
                raise ApiError(404, {"error": "Not Found"})
            with company.lock:
                pdf = printing.invoice_pdf(company, int(file[2]))
            return 200, pdf, {"Content-Type": "application/pdf"}
        if path == PREFIX + "/ui/fault" and method == "POST":
            return _fault_form(sandbox, raw)
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
        if path == PREFIX + "/keys" and method == "POST":
            if not api_key:
                raise ApiError(400, {"error": "send the API-KEY header of the key to open"})
            company = sandbox.state.company_for_key(api_key)
            return 200, {"company": company.number, "key_hint": company.key_hint}, {}
        if path == PREFIX + "/revoke" and method == "POST":
            if not api_key:
                raise ApiError(400, {"error": "send the API-KEY header of the key to revoke"})
            sandbox.state.revoke(api_key)
            return 200, {"revoked": sandbox.state.company_for_key(api_key).key_hint}, {}
        match = _ACTION.match(path)
        if match and method == "POST":
            company = _company(sandbox, api_key, body.get("company", query.get("company")))
            kind, record_id, action = match.group(1), int(match.group(2)), match.group(3)
            answer = act(company, kind, record_id, action, body)
            sandbox.state.changed()
            return 200, answer, {}
        raise ApiError(404, {"error": "Not Found"})
    except ApiError as error:
        return error.status, error.body, {}


def act(company: Company, kind: str, record_id: int, action: str, body: dict[str, Any]) -> Any:
    """Run one accountant/customer action; raises ApiError as the API would."""
    if kind in ledger.KINDS:
        return ledger.act(company, kind, record_id, action, body)
    with company.lock:
        if kind == "credit_notes" and action in ("approve", "use", "delete"):
            if action == "delete":
                return {"deleted": notes.delete_note(company, record_id)}
            if action == "approve":
                return {"note": notes.approve_note(company, record_id).to_json()}
            return {"note": notes.use_note(company, record_id, body.get("amount")).to_json()}
        if (kind, action) == ("invoices", "submit"):
            return {"invoice": documents.submit_invoice(company, record_id).to_json()}
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
        # Breaking the books on purpose, for the app's reconciliation to find.
        if (kind, action) == ("invoices", "duplicate"):
            return {"invoice": documents.duplicate_invoice(company, record_id).to_json()}
        if (kind, action) == ("invoices", "inflate"):
            return {"invoice": documents.inflate_invoice(company, record_id).to_json()}
        if (kind, action) == ("invoices", "zero_rate"):
            return {"invoice": documents.zero_rate_invoice(company, record_id).to_json()}
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
    "submit": ("invoices", "submit", lambda form: {}),
    "approve": ("invoices", "approve", lambda form: {}),
    "note_approve": ("credit_notes", "approve", lambda form: {}),
    "note_use": ("credit_notes", "use", lambda form: {}),
    "note_delete": ("credit_notes", "delete", lambda form: {}),
    "pay": (
        "invoices",
        "payments",
        lambda form: {"amount": form.get("amount"), "account_id": form.get("account_id")},
    ),
    "delete": ("invoices", "delete", lambda form: {}),
    "duplicate": ("invoices", "duplicate", lambda form: {}),
    "inflate": ("invoices", "inflate", lambda form: {}),
    "zero_rate": ("invoices", "zero_rate", lambda form: {}),
    "stock": (
        "products",
        "stock",
        lambda form: {"quantity": form.get("quantity"), "inventory_id": form.get("inventory_id")},
    ),
    "deactivate": ("customers", "deactivate", lambda form: {}),
    "activate": ("customers", "activate", lambda form: {}),
    **ledger.FORM_ACTIONS,
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
            sandbox.state.changed()
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
        f"the customer (pay). {_keys_text(sandbox)}</p>",
    ]
    if message:
        parts.append(f'<p class="msg">{escape(message)}</p>')
    parts.append(_faults_html(sandbox, company))
    if company is None:
        parts.append("<p>No company yet: point the app (or any client) at this sandbox.</p>")
    else:
        parts.append(
            f'<form method=get action="{PREFIX}/">Company <select name=company>{options}</select> '
            "<button>Show</button></form>"
        )
        with company.lock:
            parts += [_invoices_html(company), _notes_html(company), _products_html(company)]
            parts.append(_customers_html(company))
            parts += ledger.html(company, _button, _table)
    parts.append("</body></html>")
    return "".join(parts).encode()


# ---- fault switches: what a trial user needs to see the app's retry queue at work ------------


def _switches(sandbox: SandboxServer) -> dict[str, tuple[str, str]]:
    """switch → (name, what it does, in one line)."""
    late = f"{sandbox.late_answer_seconds:g}"
    return {
        "fail_503": (
            "Next POST fails with 503",
            "Qoyod answers the next create with 503 Service Unavailable and saves nothing; the "
            "app puts the send in its retry queue.",
        ),
        "time_out": (
            "Next POST times out",
            f"Qoyod answers the next create only after {late} s, when the app has given up "
            "waiting, and saves it then; the app marks it as possibly saved in Qoyod.",
        ),
        "commit_drop": (
            "Next POST commits then drops the connection",
            "Qoyod saves the next create but the connection breaks before its answer; the app "
            "marks it as possibly saved, and Retry finds it instead of sending it twice.",
        ),
    }


def _armed(sandbox: SandboxServer) -> set[str]:
    """The switches waiting for their POST; a switch disarms once it has taken one."""
    snapshot = sandbox.faults.snapshot()
    armed = set()
    for rule in snapshot["rules"]:
        if rule["method"] != "POST" or rule["path"] is not None:
            continue
        if rule["action"] == "status" and rule["status"] == 503:
            armed.add("fail_503")
        if rule["action"] == "drop" and rule["commit"]:
            armed.add("commit_drop")
    for hold in snapshot["holds"]:
        timed = hold["release_after"] is not None and hold["remaining"] > 0
        if timed and (hold["method"], hold["path"]) == ("POST", None):
            armed.add("time_out")
    return armed


def _arm(sandbox: SandboxServer, switch: str) -> None:
    if switch == "fail_503":
        sandbox.faults.fail_next(1, status=503, method="POST")
    elif switch == "time_out":
        sandbox.faults.hold_next(1, method="POST", release_after=sandbox.late_answer_seconds)
    else:
        sandbox.faults.drop_next(1, commit=True, method="POST")


def _fault_form(sandbox: SandboxServer, raw: bytes) -> Answer:
    form = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    switch = form.get("switch", "")
    switches = _switches(sandbox)
    if switch == "clear":
        sandbox.faults.clear()
        message = "Faults cleared: Qoyod answers normally again."
    elif switch not in switches:
        message = "Nothing done: unknown fault switch."
    elif switch in _armed(sandbox):
        message = f"Already armed: {switches[switch][0]}."
    else:
        _arm(sandbox, switch)
        message = f"Armed: {switches[switch][0]}."
    location = f"{PREFIX}/?" + urlencode({"company": form.get("company", ""), "msg": message})
    return 303, b"", {"Location": location}


def _faults_html(sandbox: SandboxServer, company: Company | None) -> str:
    armed = _armed(sandbox)
    number = "" if company is None else str(company.number)

    def button(switch: str, label: str) -> str:
        return (
            f'<form method=post action="{PREFIX}/ui/fault">'
            f'<input type=hidden name=company value="{number}">'
            f'<input type=hidden name=switch value="{switch}"><button>{label}</button></form>'
        )

    rows = [
        f"<tr><td>{escape(name)}</td><td>{escape(what)}</td>"
        f'<td class="{"armed" if switch in armed else "off"}">'
        f"{'Armed: waits for the next POST' if switch in armed else 'Off'}</td>"
        f"<td>{'' if switch in armed else button(switch, 'Arm')}</td></tr>"
        for switch, (name, what) in _switches(sandbox).items()
    ]
    rows.append(
        "<tr><td>Clear faults</td><td>Disarms every switch and fault (also those set through "
        "<code>/_sandbox/faults</code>) and answers a held POST now.</td><td></td>"
        f"<td>{button('clear', 'Clear faults')}</td></tr>"
    )
    return _table("Faults (each switch acts once)", ("Switch", "What it does", "State", ""), rows)


def _keys_text(sandbox: SandboxServer) -> str:
    if sandbox.state.accept_any_key:
        return "Any API key used against <code>/2.0/</code> opens its own company."
    return (
        "As in Qoyod, only the API keys of these companies are served; any other key gets "
        "401 (open one with <code>--key</code> or <code>POST /_sandbox/keys</code>)."
    )


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
        if not invoice.approved:
            submit = (
                ""
                if invoice.awaiting_approval
                else _button(company, "submit", invoice.id, "Submit for approval")
            )
            actions = (
                submit
                + _button(company, "approve", invoice.id, "Approve")
                + _button(company, "delete", invoice.id, "Delete draft")
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
        actions += (
            _button(company, "duplicate", invoice.id, "Break: duplicate")
            + _button(company, "inflate", invoice.id, "Break: change total")
            + _button(company, "zero_rate", invoice.id, "Break: change VAT")
        )
        rows.append(
            # The app's "Open in Qoyod" link lands on the row (QoyodConnection.invoice_url).
            f'<tr id="invoice-{invoice.id}"><td>{invoice.id}</td>'
            f"<td>{escape(invoice.reference) or '—'}</td>"
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


def _notes_html(company: Company) -> str:
    rows = []
    for note in sorted(company.credit_notes.values(), key=lambda n: n.id, reverse=True):
        if not note.approved:
            actions = _button(company, "note_approve", note.id, "Approve")
            actions += _button(company, "note_delete", note.id, "Delete draft")
        elif note.remaining > 0:
            actions = _button(company, "note_use", note.id, "Use against the invoice")
        else:
            actions = ""
        rows.append(
            f'<tr id="credit-note-{note.id}"><td>{note.id}</td>'
            f"<td>{escape(note.reference) or '—'}</td><td>{note.parent_id or '—'}</td>"
            f"<td>{escape(note.issuance_reason) or '—'}</td><td>{escape(note.status)}</td>"
            f"<td class=n>{money(note.total)}</td><td class=n>{money(note.remaining)}</td>"
            f"<td>{actions}</td></tr>"
        )
    return _table(
        "Credit notes",
        ("Id", "Reference", "Invoice", "Reason", "Status", "Total", "Remaining", ""),
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
td.armed{font-weight:bold;color:#a40}
form{display:inline;margin-right:.3rem}.msg{background:#eef6ff;padding:.5rem;border-radius:.3rem}
</style></head><body>"""
