"""The demo's Qoyod invoices in every state, made through the sandbox as a person would make them.

Drafts are sent by invoice_send_draft, as the accountant's click sends them; the accountant's and
the customer's moves in Qoyod (submit for approval, approve, pay) are the sandbox's own actions;
a failed and an unknown send come from the sandbox's fault switches (a 503, an answer dropped
after Qoyod saved). Nothing is faked on our side: every Qoyod id and state here is one the
sandbox holds.

seed_demo runs this before `make run` starts its sandbox, so it serves a sandbox of its own on
the sandbox's address with the demo's state file for the length of the seed; `make run`'s sandbox
then serves the same books. With the address taken (a sandbox already running), the Qoyod part is
skipped and says why: seed_demo must not arm faults on a sandbox someone is using.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User

from core.money import money_text
from invoicing.models import Invoice
from invoicing.services import invoice_void_and_reissue
from qoyod_sync.models import QoyodInvoiceSync
from qoyod_sync.push import invoice_send_draft
from qoyod_sync.readback import fetch
from qoyod_sync.sandbox import SandboxServer
from qoyod_sync.sandbox.control import act
from qoyod_sync.services import invoice_qoyod_draft_delete

# As `make run` starts its sandbox (--opening-stock 50): parts can be approved in Qoyod.
OPENING_STOCK = Decimal("50")
# What happens to each Qoyod invoice, in order; seed_demo hands over one invoice per entry.
PLAN = (
    ["ready"] * 3
    + ["draft"] * 3
    + ["awaiting"] * 2
    + ["approved"] * 3
    + ["partially_paid"] * 2
    + ["paid"] * 3
    + ["failed", "unknown", "reissued"]
)

# A refusal in Qoyod's validation shape (qoyod-api.md §10): the failed row shows Qoyod's words.
REFUSAL = {"errors": {"issue_date": ["falls in a closed accounting period"]}}

# The accountant's and the customer's moves in Qoyod after the send: (action, pays half?).
MOVES = {
    "awaiting": [("submit", False)],
    "approved": [("approve", False)],
    "partially_paid": [("approve", False), ("payments", True)],
    "paid": [("approve", False), ("payments", False)],
}


@contextmanager
def demo_sandbox(state_path: Path) -> Iterator[SandboxServer | None]:
    """A sandbox on QOYOD_SANDBOX_URL's address keeping `state_path`; None if it is taken."""
    where = urlsplit(settings.QOYOD_SANDBOX_URL)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = SandboxServer(
            where.hostname or "127.0.0.1", where.port or 8765, opening_stock=OPENING_STOCK,
            accept_any_key=True, state_path=state_path,
        )  # fmt: skip
    except OSError:
        yield None
        return
    server.start()
    try:
        yield server
    finally:
        server.stop()


def demo_qoyod_seed(
    *, server: SandboxServer, api_key: str, invoices: Sequence[Invoice], accountant: User
) -> dict[str, int]:
    """Take each invoice through its PLAN entry (the connection uses `api_key`); how many went
    through each entry."""
    company = server.state.company_for_key(api_key)
    done: dict[str, int] = {}
    sent: list[Invoice] = []

    def qoyod(invoice: Invoice, action: str, body: dict[str, str]) -> None:
        qoyod_id = QoyodInvoiceSync.objects.get(invoice=invoice).qoyod_invoice_id
        assert qoyod_id is not None, f"{invoice.number} was sent first"
        act(company, "invoices", qoyod_id, action, body)
        server.state.changed()

    for plan, invoice in zip(PLAN, invoices, strict=False):
        if plan == "failed":
            server.faults.fail_next(status=422, body=REFUSAL, method="POST", path="/invoices")
        elif plan == "unknown":
            server.faults.drop_next(commit=True, method="POST", path="/invoices")
        if plan != "ready":
            invoice_send_draft(invoice=invoice, user=accountant)
            sent.append(invoice)
        if plan == "reissued":
            invoice = _void_and_reissue(invoice, accountant)
            sent.append(invoice)
        for action, half in MOVES.get(plan, ()):
            qoyod(invoice, action, {"amount": money_text(invoice.total / 2)} if half else {})
        done[plan] = done.get(plan, 0) + 1
    server.faults.clear()
    fetch.invoices_refresh(invoice_ids=[invoice.pk for invoice in sent])
    return done


def _void_and_reissue(invoice: Invoice, accountant: User) -> Invoice:
    """A wrong draft: voided here, its Qoyod draft deleted, the new version sent as its own."""
    reissued = invoice_void_and_reissue(
        invoice=invoice, reason="Wrong vehicle on the invoice", user=accountant
    )
    invoice.refresh_from_db()
    invoice_qoyod_draft_delete(invoice=invoice, user=accountant)
    invoice_send_draft(invoice=reissued, user=accountant)
    return reissued
