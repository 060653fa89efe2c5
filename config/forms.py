"""The login and password forms, styled like every other form."""

from __future__ import annotations

from django.contrib.auth import forms as auth_forms

from core.forms import BootstrapFormMixin


class LoginForm(BootstrapFormMixin, auth_forms.AuthenticationForm):
    pass


class PasswordChangeForm(BootstrapFormMixin, auth_forms.PasswordChangeForm):
    pass
