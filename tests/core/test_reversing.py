from __future__ import annotations

from django.urls import reverse, set_script_prefix

from core.reversing import reverse_cached


def test_reverse_cached_gives_what_reverse_gives_for_any_id_and_script_prefix():
    assert reverse_cached("invoicing:invoice_list") == reverse("invoicing:invoice_list")
    for pk in (1, 9, 10, 987654321):
        expected = reverse("invoicing:invoice_detail", args=[pk])
        assert reverse_cached("invoicing:invoice_detail", pk) == expected
        sent = reverse("qoyod_sync:invoice_send", args=[pk])
        assert reverse_cached("qoyod_sync:invoice_send", pk) == sent
    try:
        set_script_prefix("/garage/")
        assert reverse_cached("invoicing:invoice_detail", 7) == "/garage/invoices/7/"
    finally:
        set_script_prefix("/")
    assert reverse_cached("invoicing:invoice_detail", 7) == "/invoices/7/"
