"""Static files as production collects them (the gunicorn smoke test in .ci/ serves them)."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.management import call_command

# Vendored files are byte-for-byte what the npm packages ship (bootstrap@5.3.9 dist/,
# htmx.org@2.0.11 dist/), source maps included: the minified files name their maps, and the
# manifest storage refuses a reference it cannot resolve.
VENDORED_SHA256 = {
    "bootstrap/LICENSE": "bc0cd18d94c028f1c0b62ec9fdaddcb9921c1e07c29cf52dc7df8cca9daf2488",
    "bootstrap/bootstrap.bundle.min.js": (
        "4ad2ad30a7df1fa0a615c4cfeb1aeffbe92019a8dff0262c99464acbd56dca5c"
    ),
    "bootstrap/bootstrap.bundle.min.js.map": (
        "b42b15c99f0aa4a8ab19ff5c865114bc3be412f00e458314e742554f7a835b5f"
    ),
    "bootstrap/bootstrap.min.css": (
        "9caac977a0af0c2229abd397eee3345899c4020da2a1a0b711c1cc543fe3719d"
    ),
    "bootstrap/bootstrap.min.css.map": (
        "18f584922933e424f32ec9484c9b4acdfda2706d303c6ed1bdf2db1bf0ab7ad3"
    ),
    "bootstrap/bootstrap.rtl.min.css": (
        "9eaaeda632b9153c5574293ef02c2bcaeeefa14a81771c6e25fd46eb3aad3a0b"
    ),
    "bootstrap/bootstrap.rtl.min.css.map": (
        "fba0c17ab5ace888c178402f6b8a843bc8fae91b1bcc0e3999783095160d06ab"
    ),
    "htmx/LICENSE": "d3d2456f76414f2456104660ebd65aff1c04cd7966b942bdabd63f3cdb316a38",
    "htmx/htmx.min.js": "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717",
}


def test_vendored_files_are_the_upstream_release_files():
    vendor = settings.BASE_DIR / "static" / "vendor"

    found = {
        str(path.relative_to(vendor)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(vendor.rglob("*"))
        if path.is_file()
    }

    assert found == VENDORED_SHA256


def test_collectstatic_with_the_production_storage_resolves_every_reference(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

    call_command("collectstatic", "--noinput", verbosity=0)

    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in ("bootstrap.min.css", "bootstrap.rtl.min.css", "bootstrap.bundle.min.js"):
        hashed = paths[f"vendor/bootstrap/{name}"]
        map_name = paths[f"vendor/bootstrap/{name}.map"].rsplit("/", 1)[1]
        assert f"sourceMappingURL={map_name}" in (tmp_path / hashed).read_text()
