"""Statement import pages: upload, then map and preview (GET), then import (POST), then the result.

For the Accounting menu's users who enter transactions (accountant, finance manager, admin).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from accounting import csv_import
from accounting.import_forms import StatementMappingForm, StatementUploadForm
from accounting.models import StatementUpload
from accounting.transactions import entry_branches
from core import roles
from core.http import AuthenticatedHttpRequest
from core.messages import render as render_message

IMPORT = [roles.SEE_ACCOUNTING, roles.ENTER_TRANSACTION]
# Room for the multipart boundaries, the CSRF token and the encoding beside the file itself.
_FORM_OVERHEAD = 16 * 1024


def _declared_size(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


# CSRF is checked below, after the size: the CSRF check reads the body, and a 50 MB statement
# is refused from its Content-Length without reading it.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@permission_required(IMPORT, raise_exception=True)
def statement_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST" and _declared_size(request) > (
        settings.STATEMENT_MAX_BYTES + _FORM_OVERHEAD
    ):
        refusal = csv_import.statement_too_large(name=_("The file"))
        context = {"form": StatementUploadForm(), "refusal": refusal}
        return render(request, "accounting/import_upload.html", context, status=413)
    return _statement_upload(request)


@csrf_protect
def _statement_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = StatementUploadForm()
    else:
        form = StatementUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                upload = csv_import.statement_upload_create(
                    file=form.cleaned_data["file"],
                    encoding=form.cleaned_data["encoding"],
                    user=request.user,
                )
            except csv_import.StatementRefused as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("accounting:statement_map", upload=upload.token)
    return render(request, "accounting/import_upload.html", {"form": form})


@require_http_methods(["GET", "POST"])
@permission_required(IMPORT, raise_exception=True)
def statement_map(request: AuthenticatedHttpRequest, upload: str) -> HttpResponse:
    row = get_object_or_404(StatementUpload, token=upload, uploaded_by=request.user)
    if row.imported_at is not None:
        return render(request, "accounting/import_result.html", _result(row))
    branches = entry_branches(user=request.user)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = StatementMappingForm(data, header=row.header, branches=branches)
    preview = None
    if form.is_bound and form.is_valid():
        mapping = form.mapping()
        if request.method == "POST":
            try:
                csv_import.statement_import(
                    upload=row, mapping=mapping, branch=form.cleaned_data["branch"],
                    user=request.user,
                )  # fmt: skip
            except ValidationError as exc:
                messages.error(request, exc.messages[0])
            else:
                return redirect("accounting:statement_map", upload=row.token)
        preview = csv_import.statement_preview(upload=row, mapping=mapping)
    context: dict[str, object] = {"upload": row, "form": form, "preview": preview}
    if preview is not None:
        context |= _skipped(
            [d.as_data() for d in preview.duplicates], [p.as_data() for p in preview.problems]
        )
    return render(request, "accounting/import_map.html", context)


def _skipped(duplicates: list[dict], problems: list[dict]) -> dict[str, object]:
    """Skipped lines as the page shows them, from the data the import stores."""
    return {
        "duplicates": duplicates,
        "problems": [
            {"line": p["line"], "text": render_message(p["code"], p["params"])} for p in problems
        ],
    }


def _result(row: StatementUpload) -> dict[str, object]:
    return {"upload": row} | _skipped(row.duplicates, row.errors)
