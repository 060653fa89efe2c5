from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from collections import Counter
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from accounting.models import Transaction
from garage.management.commands.seed_demo import DEMO_QOYOD_KEY
from garage.models import Branch, Customer, JobCard, PartStock, SparePart, Vehicle
from invoicing.models import FINANCE_QUEUE, Invoice
from payments.models import QoyodPaymentState
from qoyod_sync.models import QoyodInvoiceSync
from qoyod_sync.push import invoice_send_draft
from qoyod_sync.sandbox.server import SandboxState
from tests.qoyod_fixtures import TEST_OPTIONS


@pytest.mark.django_db
def test_pages_need_login(client):
    response = client.get("/jobs/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/jobs/"


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True  # as `make run` has it
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = [m.objects.count() for m in (User, Branch, Customer, Vehicle, JobCard, PartStock)]
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert [m.objects.count() for m in (User, Branch, Customer, Vehicle, JobCard, PartStock)] == (
        counts
    )
    assert counts == [5, 2, 33, 42, 60, 12]
    assert list(
        SparePart.objects.filter(tax_category="Z").values_list("sku", "vat_exemption_code")
    ) == [("MED-KIT-01", "VATEX-SA-35")]
    assert set(JobCard.objects.values_list("status", flat=True)) == {
        "open", "in_progress", "completed", "cancelled",
    }  # fmt: skip
    assert set(User.objects.get(username="finance").groups.values_list("name", flat=True)) == {
        "Finance Manager"
    }


SEED_REFUSED = (
    "seed_demo creates demo users with a published password, a superuser among them, and DEBUG "
    "is off, so this looks like production. Nothing was written. On a demo or staging server run "
    "it with --i-know-this-is-not-production."
)


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert str(refused.value) == SEED_REFUSED
    assert [m.objects.count() for m in (User, Branch, Customer, Vehicle, JobCard, PartStock)] == [
        0, 0, 0, 0, 0, 0,
    ]  # fmt: skip


def test_seed_demo_from_the_command_line_exits_non_zero_with_debug_off(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "a-production-like-secret-key-for-this-test-only-0123456789",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }

    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 1
    assert done.stderr == f"CommandError: {SEED_REFUSED}\n"
    assert done.stdout == ""
    # Refused before the database was touched: not even the file exists.
    assert not (tmp_path / "db.sqlite3").exists()


@pytest.mark.django_db
def test_seed_demo_runs_with_debug_off_when_told_it_is_not_production(settings):
    settings.DEBUG = False

    call_command(
        "seed_demo",
        "--i-know-this-is-not-production",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )

    assert User.objects.filter(is_superuser=True).get().username == "admin"
    assert JobCard.objects.count() == 60


@pytest.mark.django_db(transaction=True)
def test_the_demo_sends_a_draft_to_its_sandbox_first_time(settings, qoyod_sandbox):
    settings.DEBUG = True  # as `make run` has it
    # `make run` starts its sandbox with stock for every new part (README).
    qoyod_sandbox.company(DEMO_QOYOD_KEY).opening_stock = Decimal("50")
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # Without --sandbox-state the demo's Qoyod invoices are left ready to send.
    invoice = Invoice.objects.filter(requires_qoyod=True).order_by("id").first()

    result = invoice_send_draft(invoice=invoice, user=None, options=TEST_OPTIONS)

    assert result.ok, result.message
    draft = qoyod_sandbox.company(DEMO_QOYOD_KEY).invoices[result.sync.qoyod_invoice_id]
    approved = qoyod_sandbox.act("invoices", draft.id, "approve", api_key=DEMO_QOYOD_KEY)
    assert approved["invoice"]["status"] == "Approved"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_the_demo_makes_its_qoyod_invoices_in_every_state_through_the_sandbox(settings, tmp_path):
    settings.DEBUG = True
    settings.QOYOD_SANDBOX_URL = f"http://127.0.0.1:{_free_port()}/2.0"
    state = tmp_path / "qoyod-sandbox.json"
    out = io.StringIO()

    call_command("seed_demo", "--sandbox-state", str(state), stdout=out)

    assert (
        "Qoyod demo invoices: 3 ready, 3 draft, 2 awaiting, 3 approved, 2 partially_paid, "
        "3 paid, 1 failed, 1 unknown, 1 reissued"
    ) in out.getvalue()
    syncs = QoyodInvoiceSync.objects.select_related("invoice")
    assert Counter(s.state for s in syncs) == {"draft_created": 15, "failed": 1, "unknown": 1}
    assert Counter(QoyodPaymentState.objects.values_list("qoyod_status", flat=True)) == {
        "draft": 4, "awaiting_approval": 2, "approved": 3, "partially_paid": 2, "paid": 3,
    }  # fmt: skip
    assert Invoice.objects.filter(requires_qoyod=True, qoyod_sync__isnull=True).count() == 3
    # The sandbox's books, as `make run`'s sandbox will load them: every linked draft is there
    # under our number, the deleted one is gone, and the unknown send's draft is kept.
    company = SandboxState(state_path=state).company_for_key(DEMO_QOYOD_KEY)
    references = {invoice.reference: invoice.id for invoice in company.invoices.values()}
    linked = {s.invoice.number: s.qoyod_invoice_id for s in syncs if s.state == "draft_created"}
    void = Invoice.objects.get(requires_qoyod=True, status=Invoice.Status.VOID)
    assert {n: references.get(n) for n in linked if n != void.number} == {
        n: i for n, i in linked.items() if n != void.number
    }
    assert void.number not in references
    unknown = syncs.get(state="unknown").invoice.number
    assert unknown in references
    local = Invoice.objects.filter(requires_qoyod=False)
    assert Counter(local.values_list("finance_state", flat=True)) == {
        "pending": 13, "processed": 2, "failed": 1,
    }  # fmt: skip
    # The README's curl lines read the queue's first invoice from this line.
    first = Invoice.objects.filter(FINANCE_QUEUE).order_by("finance_queued_at", "id")[0]
    assert first.number.endswith("-000001")
    assert f"  first invoice in the queue: {first.number}\n" in out.getvalue()

    # Expenses too: synced ones are entries the sandbox holds, the lost answer's entry is there.
    assert "Demo journal entries: 6 synced, 1 failed, 1 unknown" in out.getvalue()
    assert Counter(Transaction.objects.values_list("state", flat=True)) == {
        "not_synced": 24, "synced": 6, "failed": 1, "unknown": 1,
    }  # fmt: skip
    entries = {e.id for e in company.journal_entries.values()}
    synced = set(
        Transaction.objects.filter(state="synced").values_list("qoyod_entry_id", flat=True)
    )
    assert synced < entries and len(entries) == 7

    out = io.StringIO()
    call_command("seed_demo", "--sandbox-state", str(state), stdout=out)

    assert "Qoyod demo invoices" not in out.getvalue()
    assert "Demo journal entries" not in out.getvalue()
    assert QoyodInvoiceSync.objects.count() == 17
