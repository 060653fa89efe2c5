"""The worker's entry point (config/wsgi.py, what gunicorn loads)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings


def test_the_worker_loads_every_view_then_keeps_them_out_of_the_collectors_passes():
    script = (
        "import gc, json, sys; import config.wsgi as w; print(json.dumps(["
        "gc.get_freeze_count(), len(gc.get_objects()), 'invoicing.views.lists' in sys.modules,"
        " 'accounting.views' in sys.modules, callable(w.application)]))"
    )

    out = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    frozen, tracked, lists_loaded, accounting_loaded, app = json.loads(out)

    # Nearly everything made while loading is frozen: what is left is the few objects the
    # script itself made after.
    assert frozen > 50_000
    assert tracked < 1_000
    assert (lists_loaded, accounting_loaded, app) == (True, True, True)
