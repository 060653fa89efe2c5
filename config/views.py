from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, permission_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import observability
from config.forms import LoginForm, PasswordChangeForm
from config.sessions import session_end_others
from core import roles
from garage.management.commands import seed_demo
from garage.selectors import jobcard_to_work, jobcard_visible
from invoicing import selectors as invoicing_selectors
from qoyod_sync import selectors as qoyod_selectors


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and, where configured, Redis and the Celery broker answer; 503 when
    any of them does not. The in-process memory broker of the tests is not a service to check."""
    checks = {"database": observability.health_database()}
    if settings.REDIS_URL:
        checks["redis"] = observability.health_redis(url=settings.REDIS_URL)
    if not settings.CELERY_BROKER_URL.startswith("memory://"):
        checks["broker"] = observability.health_broker(url=settings.CELERY_BROKER_URL)
    healthy = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            **{name: "ok" if ok else "unavailable" for name, ok in checks.items()},
        },
        status=200 if healthy else 503,
    )


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The day by role: the job board for those who run the floor, a technician's own jobs,
    and the accountant's queues. Every section is a fixed number of capped queries."""
    user = request.user
    today = timezone.localdate()
    context: dict[str, Any] = {"today": today}
    if user.has_perm("garage.view_jobcard"):
        jobs = jobcard_visible(user=user)
        if not user.has_perm(roles.SEE_ALL_JOBS):
            context["my_jobs"] = jobcard_to_work(jobs=jobs)
        elif user.has_perm("garage.add_jobcard"):
            context["board"] = invoicing_selectors.job_board(jobs=jobs, today=today)
            context["day"] = invoicing_selectors.day_figures(jobs=jobs, today=today)
    if user.has_perm("qoyod_sync.send_invoice"):
        context["finance"] = invoicing_selectors.finance_figures()
        context["retry_count"] = qoyod_selectors.retry_queue_count()
        context["connection"] = qoyod_selectors.connection_health()
        context["cap"] = qoyod_selectors.QUEUE_CAP
    return render(request, "home.html", context)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str | Promise


def demo_logins() -> list[DemoLogin]:
    """seed_demo's users that exist, for the login page of a trial (SHOW_DEMO_LOGINS)."""
    if not settings.SHOW_DEMO_LOGINS:
        return []
    roles_of = {username: role for username, _first, _last, role in seed_demo.USERS}
    existing = set(
        User.objects.filter(username__in=roles_of, is_active=True).values_list(
            "username", flat=True
        )
    )
    return [
        DemoLogin(username=username, role=roles.ROLE_LABELS[role])
        for username, role in roles_of.items()
        if username in existing
    ]


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_logins"] = demo_logins()
        context["demo_password"] = seed_demo.DEMO_PASSWORD
        return context


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password; every other session of the user ends (a lost phone, a
    colleague at the counter), the one making the change stays logged in."""

    template_name = "registration/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        session_end_others(user=form.user, keep_session_key=self.request.session.session_key)
        messages.success(self.request, _("Your password was changed."))
        return response


@permission_required("garage.view_branch", raise_exception=True)
def settings_home(request: HttpRequest) -> HttpResponse:
    return render(request, "settings/home.html")
