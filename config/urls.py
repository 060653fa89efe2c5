from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    # The switcher is on the login page too, so choosing a language must not need a login.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("settings/", views.settings_home, name="settings_home"),
    path("settings/api-clients/", include("api.page_urls")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("invoices/", include("invoicing.urls")),
    path("payments/", include("payments.urls")),
    path("qoyod/", include("qoyod_sync.urls")),
    path("accounting/", include("accounting.urls")),
    # Short, because it ends every journal entry's description in Qoyod.
    path("r/", include("accounting.receipt_urls")),
    path("", include("garage.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
