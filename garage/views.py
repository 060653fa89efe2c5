"""Garage pages. Each view checks a permission, validates a form, calls one service, renders."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import roles
from core.http import AuthenticatedHttpRequest
from core.ids import parse_id
from core.paging import KeysetPage, keyset_page
from garage import selectors, services
from garage.filters import CustomerFilter, JobCardFilter, SparePartFilter
from garage.forms import (
    CustomerForm,
    JobCardCreateForm,
    JobLineForm,
    ServiceItemForm,
    SparePartForm,
    StockReceiveForm,
    VehicleForm,
)
from garage.models import Customer, JobCard, ServiceItem, SparePart, Vehicle

M = TypeVar("M", bound=Model)

PAGE_SIZE = 25
# The customer page shows the latest jobs; the job list searched by mobile shows them all.
JOBS_SHOWN = 20

require_GET_or_POST = require_http_methods(["GET", "POST"])


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _page(request: HttpRequest, queryset: QuerySet) -> KeysetPage:
    return keyset_page(request, queryset, per_page=PAGE_SIZE)


def _preset(model: type[M], value: str | None) -> M | None:
    """The object named by a ?customer=ID style parameter, or None if it is absent or wrong."""
    pk = parse_id(value)
    return None if pk is None else model._default_manager.filter(pk=pk).first()


def _add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's messages next to the fields they name, the others above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.error_list)


# Jobs


@require_GET
@permission_required("garage.view_jobcard", raise_exception=True)
def job_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    filterset = JobCardFilter(
        request.GET, queryset=selectors.jobcard_list(user=request.user, search=search)
    )
    context = {"filter": filterset, "page": _page(request, filterset.qs), "search": search}
    return render(request, "garage/job_list.html", context)


@require_GET_or_POST
@permission_required("garage.add_jobcard", raise_exception=True)
def job_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = JobCardCreateForm(request.POST)
        if form.is_valid():
            try:
                job = services.jobcard_create(created_by=request.user, **form.cleaned_data)
            except services.JobAlreadyOpened as exc:
                messages.info(request, exc.messages[0])
                return redirect("garage:job_detail", pk=exc.job.pk)
            except ValidationError as exc:
                _add_service_errors(form, exc)
            else:
                messages.success(request, _("Job %(number)s opened.") % {"number": job.number})
                return redirect("garage:job_detail", pk=job.pk)
    else:
        vehicle = _preset(Vehicle, request.GET.get("vehicle"))
        customer = vehicle.customer if vehicle else _preset(Customer, request.GET.get("customer"))
        form = JobCardCreateForm(
            initial={"customer": customer, "vehicle": vehicle}, customer=customer
        )
    return render(request, "garage/job_form.html", {"form": form})


def _line_form(request: HttpRequest, job: JobCard, data: Any = None) -> JobLineForm:
    return JobLineForm(
        data,
        services=selectors.catalogue_services(),
        parts=selectors.catalogue_parts(branch=job.branch),
        can_set_price=request.user.has_perm(roles.SET_LINE_PRICE),
    )


def _render_job(
    request: HttpRequest,
    job: JobCard,
    line_form: JobLineForm | None = None,
    refusal: list[str] | None = None,
) -> HttpResponse:
    """The job page, or only its lines fragment when htmx asked for it.

    `refusal` is why a change to the lines was not made, shown on the lines card.
    """
    can_edit_lines = job.is_editable and request.user.has_perm("garage.change_jobcard")
    if line_form is None and can_edit_lines:
        line_form = _line_form(request, job)
    context = {
        "job": job,
        "totals": selectors.jobcard_totals(lines=selectors.jobcard_lines(job=job)),
        "line_form": line_form,
        "can_edit_lines": can_edit_lines,
        "line_refusal": refusal or [],
    }
    template = "partials/job_lines.html" if _is_htmx(request) else "garage/job_detail.html"
    return render(request, template, context)


def _visible_job(request: HttpRequest, pk: int) -> JobCard:
    # A technician gets 404, not 403, for someone else's job: its number is none of their business.
    return get_object_or_404(selectors.jobcard_visible(user=request.user), pk=pk)


@require_GET
@permission_required("garage.view_jobcard", raise_exception=True)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_job(request, _visible_job(request, pk))


@require_POST
@permission_required("garage.change_jobcard", raise_exception=True)
def job_line_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = _visible_job(request, pk)
    form = _line_form(request, job, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.jobline_add(
                job=job,
                kind=data["kind"],
                item=data["item"],
                quantity=data["quantity"],
                unit_price=data.get("unit_price"),
                user=request.user,
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            if not _is_htmx(request):
                return redirect("garage:job_detail", pk=job.pk)
            # The fragment comes back with an empty form for the next line.
            return _render_job(request, job)
    return _render_job(request, job, form)


@require_POST
@permission_required("garage.change_jobcard", raise_exception=True)
def job_line_remove(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    job = _visible_job(request, pk)
    line = get_object_or_404(job.lines, pk=line_pk)
    try:
        services.jobline_remove(line=line)
    except ValidationError as exc:
        # Not the add-line form's errors: that form was not submitted, so it has none to add to.
        return _render_job(request, job, refusal=exc.messages)
    if not _is_htmx(request):
        return redirect("garage:job_detail", pk=job.pk)
    return _render_job(request, job)


def _change_status(
    request: HttpRequest, pk: int, service: Callable[..., JobCard], done: str
) -> HttpResponse:
    job = _visible_job(request, pk)
    try:
        service(job=job, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, done % {"number": job.number})
    # The home page's board and job cards come back to where they were pressed.
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("garage:job_detail", pk=job.pk)


@require_POST
@permission_required(roles.MOVE_JOB, raise_exception=True)
def job_start(request: HttpRequest, pk: int) -> HttpResponse:
    return _change_status(request, pk, services.jobcard_start, _("Work on %(number)s started."))


@require_POST
@permission_required(roles.MOVE_JOB, raise_exception=True)
def job_complete(request: HttpRequest, pk: int) -> HttpResponse:
    return _change_status(request, pk, services.jobcard_complete, _("Job %(number)s completed."))


@require_POST
@permission_required(roles.CANCEL_JOB, raise_exception=True)
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _change_status(request, pk, services.jobcard_cancel, _("Job %(number)s cancelled."))


# Customers


@require_GET
@permission_required(roles.SEE_CUSTOMER_DETAILS, raise_exception=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    filterset = CustomerFilter(request.GET, queryset=selectors.customer_list(search=search))
    context = {"filter": filterset, "page": _page(request, filterset.qs), "search": search}
    return render(request, "garage/customer_list.html", context)


@require_GET
@permission_required(roles.SEE_CUSTOMER_DETAILS, raise_exception=True)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    jobs = None
    if request.user.has_perm("garage.view_jobcard"):
        jobs = selectors.jobcard_visible(user=request.user).filter(customer=customer)[:JOBS_SHOWN]
    context = {"customer": customer, "vehicles": customer.vehicles.all(), "jobs": jobs}
    return render(request, "garage/customer_detail.html", context)


def _posted(request: HttpRequest) -> Any:
    # Not `request.POST or None`: an all-empty POST must still be validated and show errors.
    return request.POST if request.method == "POST" else None


def _customer_form(request: HttpRequest, customer: Customer | None) -> HttpResponse:
    form = CustomerForm(_posted(request), instance=customer)
    if form.is_bound and form.is_valid():
        try:
            if customer is None:
                customer = services.customer_create(**form.cleaned_data)
            else:
                services.customer_update(customer=customer, **form.cleaned_data)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Customer saved."))
            return redirect("garage:customer_detail", pk=customer.pk)
    return render(request, "garage/customer_form.html", {"form": form, "customer": customer})


@require_GET_or_POST
@permission_required("garage.add_customer", raise_exception=True)
def customer_create(request: HttpRequest) -> HttpResponse:
    return _customer_form(request, None)


@require_GET_or_POST
@permission_required("garage.change_customer", raise_exception=True)
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _customer_form(request, get_object_or_404(Customer, pk=pk))


# Vehicles


@require_GET
@permission_required("garage.view_vehicle", raise_exception=True)
def vehicle_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    context = {"page": _page(request, selectors.vehicle_list(search=search)), "search": search}
    return render(request, "garage/vehicle_list.html", context)


def _vehicle_form(request: HttpRequest, vehicle: Vehicle | None) -> HttpResponse:
    # Opened from a customer's page, the new vehicle is for that customer.
    preset = _preset(Customer, request.GET.get("customer")) if vehicle is None else None
    form = VehicleForm(_posted(request), instance=vehicle, initial={"customer": preset})
    if form.is_bound and form.is_valid():
        try:
            if vehicle is None:
                vehicle = services.vehicle_create(**form.cleaned_data)
            else:
                services.vehicle_update(vehicle=vehicle, **form.cleaned_data)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Vehicle %(plate)s saved.") % {"plate": vehicle.plate_number}
            )
            return redirect("garage:customer_detail", pk=vehicle.customer_id)
    owner = vehicle.customer if vehicle else preset
    context = {
        "form": form,
        "title": _("Edit vehicle") if vehicle else _("New vehicle"),
        "cancel_url": (
            reverse("garage:customer_detail", args=[owner.pk])
            if owner
            else reverse("garage:vehicle_list")
        ),
    }
    return render(request, "garage/object_form.html", context)


@require_GET_or_POST
@permission_required("garage.add_vehicle", raise_exception=True)
def vehicle_create(request: HttpRequest) -> HttpResponse:
    return _vehicle_form(request, None)


@require_GET_or_POST
@permission_required("garage.change_vehicle", raise_exception=True)
def vehicle_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _vehicle_form(request, get_object_or_404(Vehicle, pk=pk))


# Parts and services (one page with two tabs)


@require_GET
@permission_required("garage.view_sparepart", raise_exception=True)
def part_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    filterset = SparePartFilter(request.GET, queryset=selectors.sparepart_list(search=search))
    page = _page(request, filterset.qs)
    branches = selectors.branch_list()
    context = {
        "filter": filterset,
        "page": page,
        "search": search,
        "branches": branches,
        "rows": selectors.stock_by_branch(parts=page.object_list, branches=branches),
        "tab": "parts",
    }
    return render(request, "garage/part_list.html", context)


def _part_page(
    request: HttpRequest, part: SparePart, receive_form: StockReceiveForm | None = None
) -> HttpResponse:
    if receive_form is None and request.user.has_perm("garage.change_partstock"):
        receive_form = StockReceiveForm()
    context = {
        "part": part,
        "stock": selectors.sparepart_stock(part=part),
        "movements": selectors.sparepart_movements(part=part),
        "receive_form": receive_form,
    }
    return render(request, "garage/part_detail.html", context)


@require_GET
@permission_required("garage.view_sparepart", raise_exception=True)
def part_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _part_page(request, get_object_or_404(SparePart, pk=pk))


@require_POST
@permission_required("garage.change_partstock", raise_exception=True)
def part_receive(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    part = get_object_or_404(SparePart, pk=pk)
    form = StockReceiveForm(request.POST)
    if form.is_valid():
        note = form.cleaned_data["reason"]
        try:
            services.stock_adjust(
                part=part,
                branch=form.cleaned_data["branch"],
                quantity=form.cleaned_data["quantity"],
                reason=f"received: {note}" if note else "received",
                user=request.user,
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Stock received."))
            return redirect("garage:part_detail", pk=part.pk)
    return _part_page(request, part, form)


def _catalogue_form(
    request: HttpRequest,
    form_class: type[forms.ModelForm],
    instance: SparePart | ServiceItem | None,
    *,
    save: Callable[..., Model],
    title: str,
    done_url: Callable[[Model], str],
    cancel_url: str,
) -> HttpResponse:
    form = form_class(_posted(request), instance=instance)
    if form.is_bound and form.is_valid():
        saved = save(**form.cleaned_data)
        messages.success(request, _("%(item)s saved.") % {"item": saved})
        return redirect(done_url(saved))
    context = {"form": form, "title": title, "cancel_url": cancel_url}
    return render(request, "garage/object_form.html", context)


def _part_url(part: Model) -> str:
    return reverse("garage:part_detail", args=[part.pk])


def _service_list_url(service: Model) -> str:
    return reverse("garage:service_list")


@require_GET_or_POST
@permission_required("garage.add_sparepart", raise_exception=True)
def part_create(request: HttpRequest) -> HttpResponse:
    return _catalogue_form(
        request,
        SparePartForm,
        None,
        save=partial(services.sparepart_save, part=None),
        title=_("New spare part"),
        done_url=_part_url,
        cancel_url=reverse("garage:part_list"),
    )


@require_GET_or_POST
@permission_required("garage.change_sparepart", raise_exception=True)
def part_edit(request: HttpRequest, pk: int) -> HttpResponse:
    part = get_object_or_404(SparePart, pk=pk)
    return _catalogue_form(
        request,
        SparePartForm,
        part,
        save=partial(services.sparepart_save, part=part),
        title=_("Edit spare part"),
        done_url=_part_url,
        cancel_url=_part_url(part),
    )


@require_GET
@permission_required("garage.view_serviceitem", raise_exception=True)
def service_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    context = {
        "page": _page(request, selectors.serviceitem_list(search=search)),
        "search": search,
        "tab": "services",
    }
    return render(request, "garage/service_list.html", context)


@require_GET_or_POST
@permission_required("garage.add_serviceitem", raise_exception=True)
def service_create(request: HttpRequest) -> HttpResponse:
    return _catalogue_form(
        request,
        ServiceItemForm,
        None,
        save=partial(services.serviceitem_save, item=None),
        title=_("New service"),
        done_url=_service_list_url,
        cancel_url=reverse("garage:service_list"),
    )


@require_GET_or_POST
@permission_required("garage.change_serviceitem", raise_exception=True)
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(ServiceItem, pk=pk)
    return _catalogue_form(
        request,
        ServiceItemForm,
        service,
        save=partial(services.serviceitem_save, item=service),
        title=_("Edit service"),
        done_url=_service_list_url,
        cancel_url=reverse("garage:service_list"),
    )
