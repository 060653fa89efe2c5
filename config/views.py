from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import observability
from config.forms import LoginForm, PasswordChangeForm
from config.sessions import session_end_others


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


def home(request: HttpRequest) -> HttpResponse:
    return redirect("garage:job_list")


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


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
