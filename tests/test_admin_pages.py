"""Every admin changelist opens for a superuser (the operations console does not crash)."""

from __future__ import annotations

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

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


def _names(language: str) -> dict[str, tuple[str, str]]:
    with translation.override(language):
        return {
            model._meta.label: (
                str(django_apps.get_app_config(model._meta.app_label).verbose_name),
                str(model._meta.verbose_name_plural),
            )
            for model in admin.site._registry
        }


def test_every_admin_app_and_model_name_is_translated_into_arabic():
    english, arabic = _names("en"), _names("ar")

    untranslated = {
        label: names
        for label, names in arabic.items()
        if names[0] == english[label][0] or names[1] == english[label][1]
    }

    assert untranslated == {}


@pytest.mark.django_db
def test_the_admin_index_reads_in_arabic(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "ar"})

    with translation.override("ar"):
        html = client.get(reverse("admin:index")).content.decode()

    for name in ("الورشة", "الفوترة", "المزامنة مع قيود", "حركات المخزون", "تسلسلات الترقيم"):
        assert name in html, name
