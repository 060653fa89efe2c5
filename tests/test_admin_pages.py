"""Every admin changelist opens for a superuser (the operations console does not crash)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory


@pytest.mark.django_db
def test_every_admin_changelist_and_search_opens(client):
    InvoiceFactory()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    failures = {}
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        query = "?q=1" if model_admin.search_fields else ""
        response = client.get(url + query)
        if response.status_code != 200:
            failures[url] = response.status_code

    assert failures == {}
