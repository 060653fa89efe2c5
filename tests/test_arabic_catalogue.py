"""Arabic plural forms: the catalogue declares six and every plural entry fills all of them."""

from __future__ import annotations

import datetime
from pathlib import Path

import polib
from django.conf import settings
from django.utils import timezone, translation
from django.utils.timesince import timesince
from django.utils.translation import ngettext

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES" / "django.po"


def test_every_plural_entry_has_arabics_six_forms():
    catalogue = polib.pofile(str(CATALOGUE))

    assert catalogue.metadata["Plural-Forms"].startswith("nplurals=6;")
    incomplete = [
        entry.msgid
        for entry in catalogue
        if entry.msgid_plural
        and (
            sorted(entry.msgstr_plural) != [0, 1, 2, 3, 4, 5]
            or not all(entry.msgstr_plural.values())
        )
    ]
    assert incomplete == []


def test_our_plural_picks_the_arabic_form_for_each_count():
    with translation.override("ar"):
        forms = [
            ngettext("%(counter)s attempt", "%(counter)s attempts", n)
            for n in (0, 1, 2, 3, 11, 100)
        ]

    assert forms == [
        "لا توجد محاولات",
        "محاولة واحدة",
        "محاولتان",
        "%(counter)s محاولات",
        "%(counter)s محاولة",
        "%(counter)s محاولة",
    ]


def test_relative_times_use_arabic_plurals():
    now = timezone.now()

    with translation.override("ar"):
        texts = [timesince(now - datetime.timedelta(minutes=n), now) for n in (1, 2, 3, 11)]

    # Django's own catalogue: singular, dual, 3-10 (plural) and 11-99 (singular accusative).
    assert texts == ["1\xa0دقيقة", "2\xa0دقيقتين", "3\xa0دقائق", "11\xa0دقيقة"]
