"""The audit trail: one row per sensitive action with exact fields, and rows nobody can change."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from audit.middleware import AuditRequestMiddleware
from audit.models import AppendOnly, AuditEvent
from audit.services import audit_record
from core import roles
from invoicing.services import invoice_reissue, invoice_void
from payments.models import Payment
from payments.services import payment_record
from qoyod_sync.models import BranchWarehouse
from qoyod_sync.services import connection_mappings_save, connection_save
from tests import factories
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory

pytestmark = pytest.mark.django_db

A = AuditEvent.Action
PASSWORD = "demo12345"
SENTINEL_KEY = "sentinel-qoyod-key-7c1e0a9b44d2"
SANDBOX_URL = "http://127.0.0.1:8765/2.0"


def _mark() -> int:
    last = AuditEvent.objects.order_by("-pk").first()
    return last.pk if last else 0


def _rows(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=since).order_by("pk"))


def _fields(row: AuditEvent) -> tuple:
    return (row.action, row.actor_id, row.actor_label, row.content_type, row.object_id,
            row.object_label, row.before, row.after)  # fmt: skip


def _type(model) -> ContentType:
    return ContentType.objects.get_for_model(model)


# ---- invoices and payments ------------------------------------------------------------------


def test_a_void_writes_one_row_with_status_and_reason():
    cashier = UserFactory(username="cashier")
    invoice = InvoiceFactory()
    mark = _mark()

    invoice_void(invoice=invoice, reason="Wrong customer", user=cashier)

    [row] = _rows(mark)
    assert _fields(row) == (
        A.INVOICE_VOID, cashier.pk, "cashier", _type(invoice.__class__), str(invoice.pk),
        invoice.number, {"status": "issued"}, {"status": "void", "reason": "Wrong customer"},
    )  # fmt: skip
    assert row.ip_address is None


def test_a_reissue_writes_one_row_naming_the_replacement_and_the_original():
    cashier = UserFactory(username="cashier")
    invoice = InvoiceFactory()
    invoice_void(invoice=invoice, reason="Wrong price", user=cashier)
    mark = _mark()

    replacement = invoice_reissue(invoice=invoice, user=cashier)

    [row] = _rows(mark)
    assert _fields(row) == (
        A.INVOICE_REISSUE, cashier.pk, "cashier", _type(invoice.__class__), str(replacement.pk),
        replacement.number, {"replaces": invoice.number},
        {"number": replacement.number, "total": str(replacement.total)},
    )  # fmt: skip


def test_a_local_payment_writes_one_row_with_the_balance_before_and_after():
    cashier = UserFactory(username="cashier")
    invoice = InvoiceFactory()
    balance = invoice.balance
    mark = _mark()
    today = timezone.localdate()

    payment = payment_record(
        invoice=invoice, method=Payment.Method.CASH, amount=Decimal("100.00"), paid_on=today,
        user=cashier, reference="R-7",
    )  # fmt: skip

    [row] = _rows(mark)
    assert _fields(row) == (
        A.PAYMENT_RECORD, cashier.pk, "cashier", _type(Payment), str(payment.pk),
        f"{invoice.number}: 100.00 (cash)",
        {"invoice": invoice.number, "balance": str(balance)},
        {"invoice": invoice.number, "balance": str(balance - Decimal("100.00")), "method": "cash",
         "amount": "100.00", "paid_on": today.isoformat(), "reference": "R-7"},
    )  # fmt: skip


def test_a_refused_payment_writes_no_row():
    invoice = InvoiceFactory()
    mark = _mark()

    with pytest.raises(Exception, match="more than zero"):
        payment_record(
            invoice=invoice, method=Payment.Method.CASH, amount=Decimal("0"),
            paid_on=timezone.localdate(), user=None,
        )  # fmt: skip

    assert _rows(mark) == []


# ---- the Qoyod connection -------------------------------------------------------------------


@pytest.fixture
def sandbox_allowed(settings):
    settings.QOYOD_SANDBOX_URL = SANDBOX_URL
    settings.QOYOD_SANDBOX_ENABLED = True


def test_saving_the_connection_records_a_key_change_never_the_key(sandbox_allowed):
    manager = UserFactory(username="finance")
    connection_save(base_url=SANDBOX_URL, api_key="first-key-0000-1111", user=manager)
    mark = _mark()

    saved = connection_save(base_url=SANDBOX_URL, api_key=SENTINEL_KEY, user=manager)

    [row] = _rows(mark)
    assert _fields(row) == (
        A.QOYOD_CONNECTION_SAVE, manager.pk, "finance", _type(saved.__class__), str(saved.pk),
        SANDBOX_URL, {"base_url": SANDBOX_URL, "key_last4": "1111"},
        {"base_url": SANDBOX_URL, "key_last4": "44d2", "key_changed": True},
    )  # fmt: skip
    stored = AuditEvent.objects.filter(pk=row.pk).values().get()
    assert SENTINEL_KEY not in json.dumps(stored, default=str)


def test_saving_the_connection_without_a_new_key_records_no_key_change(sandbox_allowed):
    connection_save(base_url=SANDBOX_URL, api_key=SENTINEL_KEY, user=None)
    mark = _mark()

    connection_save(base_url=SANDBOX_URL, api_key="", user=None)

    [row] = _rows(mark)
    assert (row.action, row.actor_id, row.actor_label) == (A.QOYOD_CONNECTION_SAVE, None, "")
    assert row.after == {"base_url": SANDBOX_URL, "key_last4": "44d2", "key_changed": False}


def test_the_settings_page_records_who_saved_the_key_and_from_where():
    finance = UserFactory(username="finance", role=roles.FINANCE_MANAGER)
    client = Client()
    client.force_login(finance)
    mark = _mark()

    response = client.post(
        reverse("qoyod_sync:settings"),
        {"base_url": "https://api.qoyod.com/2.0", "api_key": SENTINEL_KEY},
        REMOTE_ADDR="10.0.0.5",
    )

    assert response.status_code == 302
    [row] = _rows(mark)
    assert (row.action, row.actor_label, row.ip_address) == (
        A.QOYOD_CONNECTION_SAVE, "finance", "10.0.0.5"
    )  # fmt: skip
    assert row.before == {"base_url": "", "key_last4": ""}
    assert row.after == {
        "base_url": "https://api.qoyod.com/2.0", "key_last4": "44d2", "key_changed": True
    }  # fmt: skip
    assert SENTINEL_KEY not in json.dumps(
        AuditEvent.objects.filter(pk=row.pk).values().get(), default=str
    )


def test_saving_the_mappings_writes_one_row_with_the_mappings_before_and_after(sandbox_allowed):
    manager = UserFactory(username="finance")
    branch = factories.BranchFactory(code="JED")
    connection = connection_save(base_url=SANDBOX_URL, api_key=SENTINEL_KEY, user=manager)
    BranchWarehouse.objects.create(branch=branch, qoyod_inventory_id=1)
    mark = _mark()

    connection_mappings_save(
        warehouses={branch.pk: 2}, tax_id=1, unit_id=1, category_id=2, sales_account_id=17,
        cogs_account_id=None, payment_method=30, user=manager,
    )  # fmt: skip

    [row] = _rows(mark)
    unset = {"tax_id": None, "unit_id": None, "category_id": None, "sales_account_id": None,
             "cogs_account_id": None, "payment_method": None}  # fmt: skip
    assert _fields(row) == (
        A.QOYOD_MAPPINGS_SAVE, manager.pk, "finance", _type(connection.__class__),
        str(connection.pk), SANDBOX_URL, {"warehouses": {str(branch.pk): 1}, **unset},
        {"warehouses": {str(branch.pk): 2}, "tax_id": 1, "unit_id": 1, "category_id": 2,
         "sales_account_id": 17, "cogs_account_id": None, "payment_method": 30},
    )  # fmt: skip


# ---- users and roles ------------------------------------------------------------------------


def test_adding_a_role_writes_one_row_with_the_groups_before_and_after():
    user = UserFactory(username="omar", role=roles.TECHNICIAN)
    mark = _mark()

    user.groups.add(Group.objects.get(name=roles.ADVISOR))

    [row] = _rows(mark)
    assert _fields(row) == (
        A.USER_GROUPS, None, "", _type(User), str(user.pk), "omar",
        {"groups": [roles.TECHNICIAN]}, {"groups": sorted([roles.ADVISOR, roles.TECHNICIAN])},
    )  # fmt: skip


def test_giving_a_user_a_permission_of_their_own_writes_one_row_with_before_and_after():
    user = UserFactory(username="omar", role=roles.TECHNICIAN)
    mark = _mark()

    user.user_permissions.add(Permission.objects.get(codename="cancel_jobcard"))

    [row] = _rows(mark)
    assert _fields(row) == (
        A.USER_CHANGE, None, "", _type(User), str(user.pk), "omar",
        {"permissions": []}, {"permissions": ["garage.cancel_jobcard"]},
    )  # fmt: skip


def test_a_role_change_during_a_request_names_who_made_it_and_from_where():
    admin = UserFactory(username="boss", role=roles.ADMIN)
    user = UserFactory(username="omar", role=roles.TECHNICIAN)
    request = RequestFactory().post("/admin/", REMOTE_ADDR="10.0.0.7")
    request.user = admin
    mark = _mark()

    def view(request):
        # From the role's side, as the admin's group page saves it.
        Group.objects.get(name=roles.TECHNICIAN).user_set.remove(user)
        return HttpResponse()

    AuditRequestMiddleware(view)(request)

    [row] = _rows(mark)
    assert _fields(row) == (
        A.USER_GROUPS, admin.pk, "boss", _type(User), str(user.pk), "omar",
        {"groups": [roles.TECHNICIAN]}, {"groups": []},
    )  # fmt: skip
    assert row.ip_address == "10.0.0.7"


def test_setting_an_unchanged_role_list_writes_nothing():
    user = UserFactory(username="omar", role=roles.TECHNICIAN)
    mark = _mark()

    user.groups.set([Group.objects.get(name=roles.TECHNICIAN)])

    assert _rows(mark) == []


def test_creating_a_user_writes_one_row_without_the_password():
    mark = _mark()

    user = User.objects.create_user(username="lina", password="Correct-Horse-2026")

    [row] = _rows(mark)
    assert _fields(row) == (
        A.USER_CREATE, None, "", _type(User), str(user.pk), "lina", None,
        {"username": "lina", "email": "", "first_name": "", "last_name": "", "is_active": True,
         "is_staff": False, "is_superuser": False},
    )  # fmt: skip
    assert user.password not in json.dumps(AuditEvent.objects.filter(pk=row.pk).values().get(),
                                            default=str)  # fmt: skip


def test_making_a_user_superuser_writes_only_the_changed_flags():
    user = UserFactory(username="omar")
    mark = _mark()

    user.is_staff = user.is_superuser = True
    user.save()

    [row] = _rows(mark)
    assert (row.action, row.object_label, row.before, row.after) == (
        A.USER_CHANGE, "omar", {"is_staff": False, "is_superuser": False},
        {"is_staff": True, "is_superuser": True},
    )  # fmt: skip


def test_a_password_change_writes_one_row_saying_so_and_nothing_else():
    user = UserFactory(username="omar")
    mark = _mark()

    user.set_password("Another-Password-2026")
    user.save()

    [row] = _rows(mark)
    assert _fields(row) == (
        A.USER_PASSWORD, None, "", _type(User), str(user.pk), "omar", None, None
    )  # fmt: skip


# ---- logins ---------------------------------------------------------------------------------


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_a_login_writes_one_row():
    user = UserFactory(username="sara")
    mark = _mark()

    _login(Client(), "sara", PASSWORD)

    [row] = _rows(mark)
    assert _fields(row) == (A.LOGIN, user.pk, "sara", _type(User), str(user.pk), "sara", None, None)
    assert row.ip_address == "10.0.0.1"


def test_a_failed_login_writes_one_row_without_the_password():
    user = UserFactory(username="sara")
    mark = _mark()

    _login(Client(), "sara", "Wrong-Guess-1234", ip="10.0.0.2")

    [row] = _rows(mark)
    assert _fields(row) == (
        A.LOGIN_FAILED, None, "", _type(User), str(user.pk), "sara", None, {"username": "sara"}
    )  # fmt: skip
    assert row.ip_address == "10.0.0.2"
    assert "Wrong-Guess-1234" not in json.dumps(
        AuditEvent.objects.filter(pk=row.pk).values().get(), default=str
    )


def test_a_failed_login_for_an_unknown_name_names_no_object():
    mark = _mark()

    _login(Client(), "nobody", "Wrong-Guess-1234")

    [row] = _rows(mark)
    assert _fields(row) == (A.LOGIN_FAILED, None, "", None, "", "", None, {"username": "nobody"})


def test_the_failure_that_locks_a_user_out_writes_the_lockout():
    user = UserFactory(username="sara")
    client = Client()
    for n in range(4):
        _login(client, "sara", "wrong", ip=f"10.0.1.{n}")
    mark = _mark()

    answer = _login(client, "sara", "wrong", ip="10.0.1.9")

    assert answer.status_code == 429
    rows = _rows(mark)
    assert [(r.action, r.object_id, r.after, r.ip_address) for r in rows] == [
        (A.LOCKED_OUT, str(user.pk), {"username": "sara", "ip_address": "10.0.1.9"}, "10.0.1.9"),
        (A.LOGIN_FAILED, str(user.pk), {"username": "sara"}, "10.0.1.9"),
    ]


# ---- append-only ----------------------------------------------------------------------------


@pytest.fixture
def row() -> AuditEvent:
    return audit_record(actor=None, action=A.LOGIN_FAILED, after={"username": "x"})


def test_a_saved_row_cannot_be_saved_again(row):
    row.after = {"username": "y"}

    with pytest.raises(AppendOnly):
        row.save()

    assert AuditEvent.objects.get(pk=row.pk).after == {"username": "x"}


def test_a_row_cannot_be_deleted(row):
    with pytest.raises(AppendOnly):
        row.delete()

    assert AuditEvent.objects.filter(pk=row.pk).exists()


def test_the_queryset_refuses_update_and_delete(row):
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=row.pk).update(action=A.LOGIN)
    with pytest.raises(AppendOnly):
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.get(pk=row.pk).action == A.LOGIN_FAILED


def test_deleting_a_user_leaves_their_rows_as_written():
    user = UserFactory(username="leaver")
    audit_record(actor=user, action=A.LOGIN, obj=user)
    pk = str(user.pk)
    rows = list(AuditEvent.objects.filter(object_id=pk).order_by("pk").values())

    user.delete()

    assert [r["action"] for r in rows] == [A.USER_CREATE, A.LOGIN]
    assert list(AuditEvent.objects.filter(object_id=pk).order_by("pk").values()) == rows


def test_postgresql_refuses_raw_update_and_delete(require_postgres, row):
    table = AuditEvent._meta.db_table
    for sql in (f"UPDATE {table} SET action = 'auth.login'", f"DELETE FROM {table}"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)

    assert AuditEvent.objects.get(pk=row.pk).action == A.LOGIN_FAILED


# ---- the admin page -------------------------------------------------------------------------


def test_the_admin_searches_and_filters_the_trail_and_offers_no_change(admin_client):
    audit_record(actor=None, action=A.LOGIN_FAILED, after={"username": "sara"})
    target = UserFactory(username="omar")
    audit_record(actor=None, action=A.INVOICE_VOID, obj=target, label="INV-2026-000042")
    changelist = reverse("admin:audit_auditevent_changelist")

    found = admin_client.get(changelist, {"q": "INV-2026-000042"})
    filtered = admin_client.get(changelist, {"action__exact": A.LOGIN_FAILED})
    row = AuditEvent.objects.get(object_label="INV-2026-000042")
    detail = admin_client.get(reverse("admin:audit_auditevent_change", args=[row.pk]))

    assert found.status_code == filtered.status_code == detail.status_code == 200
    assert [r.pk for r in found.context["cl"].result_list] == [row.pk]
    assert {r.action for r in filtered.context["cl"].result_list} == {A.LOGIN_FAILED}
    assert 'name="_save"' not in detail.text
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[row.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=row.pk).exists()
