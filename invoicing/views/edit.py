"""Generate an invoice from a job, edit it, and the htmx helpers the form calls."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import (
    permission_required,
    user_passes_test,
)
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.http import AuthenticatedHttpRequest
from core.ids import parse_id
from garage.models import JobCard
from invoicing import selectors, services
from invoicing.custom_fields import custom_fields_for, custom_values_of, form_key
from invoicing.forms import (
    LINES_PREFIX,
    MAX_LINES,
    BaseInvoiceLineFormSet,
    Catalogue,
    InvoiceForm,
    InvoiceLineForm,
    add_service_error,
    catalogue_line_initial,
    line_formset,
    line_initial,
)
from invoicing.models import Invoice, InvoiceLine
from invoicing.services import InvoiceAlreadyExists, LineData
from invoicing.views.document import to_invoice, to_saved_row


def _perm_any(*perms: str) -> Callable:
    """Let through users holding any of `perms`: the form helpers serve generate and edit."""

    def check(user: Any) -> bool:
        if any(user.has_perm(perm) for perm in perms):
            return True
        raise PermissionDenied

    return user_passes_test(check)


# -- generate and edit -----------------------------------------------------------------------


def _catalogue_for(lines: Sequence[Any]) -> Catalogue:
    """Active services and parts, plus any item the lines already link to."""
    service_ids = {li.item.pk for li in lines if li.kind == InvoiceLine.Kind.SERVICE and li.item}
    part_ids = {li.item.pk for li in lines if li.kind == InvoiceLine.Kind.PART and li.item}
    return Catalogue(
        *selectors.invoice_catalogue(include_services=service_ids, include_parts=part_ids)
    )


def _catalogue_from_post(data: Any) -> Catalogue:
    """The catalogue for a submitted form: also the (possibly inactive) items it links to."""
    service_ids: set[int] = set()
    part_ids: set[int] = set()
    for key, value in data.items():
        if key.startswith(f"{LINES_PREFIX}-") and key.endswith("-item") or key == "new_item":
            kind, _sep, pk = value.partition(":")
            if (item_id := parse_id(pk)) is not None:
                (service_ids if kind == InvoiceLine.Kind.SERVICE else part_ids).add(item_id)
    return Catalogue(
        *selectors.invoice_catalogue(include_services=service_ids, include_parts=part_ids)
    )


def _invoice_form(
    data: Any = None, *, initial: dict[str, Any] | None = None, customer_id: int | None = None
) -> InvoiceForm:
    # A submitted form shows the invoice fields of the customer it names (the customer may have
    # been changed on the form; its required fields then come back to be filled).
    if data is not None:
        customer_id = parse_id(data.get("customer", ""))
    return InvoiceForm(
        data,
        initial=initial,
        customers=selectors.customers_for_invoice(),
        vehicles=selectors.vehicles_of_customer(customer_id=customer_id),
        custom_fields=custom_fields_for(customer=customer_id),
    )


def _calculated(forms: Sequence[InvoiceLineForm], lines: Sequence[LineData]) -> dict[str, Any]:
    """Run the calculator on `lines` and hang each line's result on the form it came from."""
    for form in forms:
        form.result = None
    try:
        totals = services.invoice_preview(lines=lines)
    except ValidationError as exc:
        return {"totals": None, "rates": [], "preview_errors": exc.messages}
    for form, result in zip(forms, totals.lines, strict=True):
        form.result = result
    rates = [
        selectors.RateRow(rate=r.rate, net=r.net, vat=r.vat, category=r.category)
        for r in totals.rates
    ]
    adjusted = any(result.vat_adjustment for result in totals.lines)
    return {"totals": totals, "rates": rates, "adjusted": adjusted, "preview_errors": []}


def _preview(formset: BaseInvoiceLineFormSet) -> dict[str, Any]:
    """Totals of the submitted lines, or what keeps them from being calculated."""
    for form in formset.forms:
        form.result = None
    if formset.is_valid():
        return _calculated(formset.kept_forms(), formset.line_data())
    errors = list(formset.non_form_errors())
    for number, form in enumerate(formset.kept_forms(), start=1):
        for field, field_errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            errors.extend(
                _("Line %(n)d, %(field)s: %(error)s") % {"n": number, "field": label, "error": e}
                for e in field_errors
            )
    return {"totals": None, "rates": [], "preview_errors": errors}


def _reviewed(form: Any, formset: BaseInvoiceLineFormSet) -> dict[str, Any]:
    """What the user reviewed on the invoice form, as the invoice services take it."""
    data = form.cleaned_data
    return {
        "customer": data["customer"],
        "vehicle": data["vehicle"],
        "lines": formset.line_data(),
        "issue_date": data["issue_date"],
        "due_date": data["due_date"],
        "requires_qoyod": data["requires_qoyod"],
        "notes": data["notes"],
        "custom_values": form.custom_values(),
    }


def _render_form(
    request: HttpRequest,
    *,
    form: InvoiceForm,
    formset: BaseInvoiceLineFormSet,
    catalogue: Catalogue,
    preview: dict[str, Any],
    job: JobCard,
    invoice: Invoice | None = None,
) -> HttpResponse:
    return render(
        request,
        "invoicing/invoice_form.html",
        {
            "form": form,
            "formset": formset,
            "catalogue": catalogue,
            "job": job,
            "invoice": invoice,
            **preview,
        },
    )


@permission_required("invoicing.add_invoice", raise_exception=True)
@require_http_methods(["GET", "POST"])
def invoice_generate(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(JobCard.objects.select_related("customer", "vehicle"), pk=job_id)
    existing = selectors.invoice_active_for_job(job=job)
    if existing is not None:
        messages.info(request, InvoiceAlreadyExists(existing).messages[0])
        return to_invoice(existing)
    if job.status != JobCard.Status.COMPLETED:
        messages.error(request, _("Only a completed job can be invoiced."))
        return redirect("invoicing:needs_invoice")

    if request.method == "POST":
        catalogue = _catalogue_from_post(request.POST)
        form = _invoice_form(request.POST)
        formset = line_formset(catalogue=catalogue, data=request.POST)
        if form.is_valid() and formset.is_valid():
            try:
                invoice = services.invoice_create(
                    job=job, user=request.user, **_reviewed(form, formset)
                )
            except InvoiceAlreadyExists as exc:
                # Two tabs or a double click: the first save won, show its invoice.
                messages.info(request, exc.messages[0])
                return to_invoice(exc.invoice)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Invoice %(number)s saved.") % {"number": invoice})
                return to_saved_row(invoice)
        return _render_form(
            request,
            form=form,
            formset=formset,
            catalogue=catalogue,
            preview=_preview(formset),
            job=job,
        )

    lines = services.invoice_prefill(job=job)
    catalogue = _catalogue_for(lines)
    issue_date, due_date = selectors.invoice_default_dates()
    form = _invoice_form(
        initial={
            "customer": job.customer,
            "vehicle": job.vehicle,
            "issue_date": issue_date,
            "due_date": due_date,
            "requires_qoyod": selectors.qoyod_connected_default(),
        },
        customer_id=job.customer_id,
    )
    formset = line_formset(catalogue=catalogue, initial=[line_initial(li) for li in lines])
    return _render_form(
        request,
        form=form,
        formset=formset,
        catalogue=catalogue,
        preview=_calculated(formset.forms, lines),
        job=job,
    )


@permission_required("invoicing.change_invoice", raise_exception=True)
@require_http_methods(["GET", "POST"])
def invoice_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.select_related("job"), pk=pk)
    if request.method == "GET" and (refusal := invoice.edit_refusal()):
        messages.error(request, refusal)
        return to_invoice(invoice)

    if request.method == "POST":
        catalogue = _catalogue_from_post(request.POST)
        form = _invoice_form(request.POST)
        formset = line_formset(catalogue=catalogue, data=request.POST)
        if form.is_valid() and formset.is_valid():
            try:
                services.invoice_update(
                    invoice=invoice, user=request.user, **_reviewed(form, formset)
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Invoice %(number)s saved.") % {"number": invoice})
                return to_saved_row(invoice)
        return _render_form(
            request,
            form=form,
            formset=formset,
            catalogue=catalogue,
            preview=_preview(formset),
            job=invoice.job,
            invoice=invoice,
        )

    saved: list[InvoiceLine] = list(invoice.lines.select_related("service_item", "spare_part"))
    catalogue = _catalogue_for(saved)
    form = _invoice_form(
        initial={
            "customer": invoice.customer_id,
            "vehicle": invoice.vehicle_id,
            "issue_date": invoice.issue_date,
            "due_date": invoice.due_date,
            "requires_qoyod": invoice.requires_qoyod,
            "notes": invoice.notes,
            **{form_key(pk): value for pk, value in custom_values_of(invoice=invoice).items()},
        },
        customer_id=invoice.customer_id,
    )
    formset = line_formset(catalogue=catalogue, initial=[line_initial(li) for li in saved])
    lines = [
        LineData(
            kind=li.kind,
            item=li.item,
            description_en=li.description_en,
            description_ar=li.description_ar,
            quantity=li.quantity,
            unit_price=li.unit_price,
            vat_rate=li.vat_rate,
            discount=li.discount,
            price_includes_vat=li.price_includes_vat,
            tax_category=li.tax_category,
            vat_exemption_code=li.vat_exemption_code,
        )
        for li in saved
    ]
    return _render_form(
        request,
        form=form,
        formset=formset,
        catalogue=catalogue,
        preview=_calculated(formset.forms, lines),
        job=invoice.job,
        invoice=invoice,
    )


@_perm_any("invoicing.add_invoice", "invoicing.change_invoice")
@require_POST
def invoice_preview(request: HttpRequest) -> HttpResponse:
    """Totals and line amounts of the form being edited (htmx); it saves nothing."""
    formset = line_formset(catalogue=_catalogue_from_post(request.POST), data=request.POST)
    return render(
        request,
        "partials/invoice_totals.html",
        {"formset": formset, "oob": True, **_preview(formset)},
    )


@_perm_any("invoicing.add_invoice", "invoicing.change_invoice")
@require_POST
def invoice_line_row(request: HttpRequest) -> HttpResponse:
    """A line form for a catalogue item (htmx): a new last line, or one whose item changed."""
    append = request.POST.get("mode") == "append"
    field = "new_item" if append else f"{LINES_PREFIX}-{request.POST.get('index')}-item"
    key = request.POST.get(field, "")
    if not key:
        return HttpResponse(status=204)
    catalogue = _catalogue_from_post(request.POST)
    found = catalogue.lookup(key)
    index_field = f"{LINES_PREFIX}-TOTAL_FORMS" if append else "index"
    try:
        index = int(request.POST.get(index_field, ""))
    except ValueError:
        raise Http404 from None
    if found is None or not 0 <= index < MAX_LINES:
        raise Http404
    formset = line_formset(catalogue=catalogue)
    form = formset.form(
        prefix=formset.add_prefix(index),
        initial=catalogue_line_initial(*found),
        catalogue=catalogue,
        use_required_attribute=False,
    )
    response = render(
        request,
        "partials/invoice_line_row.html",
        # A new line must be counted by the management form; a replaced one already is.
        {"line": form, "index": index, "total_forms": index + 1 if append else None},
    )
    response["HX-Trigger-After-Settle"] = "lines-changed"
    return response


@_perm_any("invoicing.add_invoice", "invoicing.change_invoice")
@require_GET
def invoice_vehicle_options(request: HttpRequest) -> HttpResponse:
    """The chosen customer's vehicles as <option>s for the invoice form (htmx)."""
    vehicles = selectors.vehicles_of_customer(customer_id=parse_id(request.GET.get("customer")))
    return render(request, "partials/invoice_vehicle_options.html", {"vehicles": vehicles})
