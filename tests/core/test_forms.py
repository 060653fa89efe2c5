from __future__ import annotations

from django import forms
from django.forms.renderers import DjangoTemplates

from core.forms import BootstrapFormMixin, FilterForm


class _Form(BootstrapFormMixin, forms.Form):
    name = forms.CharField()
    kind = forms.ChoiceField(choices=[("a", "A")])
    active = forms.BooleanField(required=False)


def test_every_widget_gets_its_bootstrap_class():
    form = _Form()
    assert form.fields["name"].widget.attrs["class"] == "form-control"
    assert form.fields["kind"].widget.attrs["class"] == "form-select"
    assert form.fields["active"].widget.attrs["class"] == "form-check-input"


def test_a_field_with_errors_is_marked_invalid_and_keeps_its_class():
    form = _Form(data={"kind": "a"})
    assert not form.is_valid()
    assert 'class="form-control is-invalid"' in str(form["name"])
    assert 'class="form-select"' in str(form["kind"])


def test_filter_form_is_styled_like_the_other_forms():
    class Filter(FilterForm):
        q = forms.CharField(required=False)

    assert Filter().fields["q"].widget.attrs["class"] == "form-control"


class _Filter(FilterForm):
    q = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": "a < b"}))
    status = forms.ChoiceField(
        required=False, choices=[("", "All"), ("paid", "Paid & done"), ("void", "Void")]
    )
    grouped = forms.ChoiceField(
        required=False, choices=[("Colours", [("r", "Red"), ("g", "Green")]), ("x", "Other")]
    )
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    count = forms.IntegerField(required=False)
    search = forms.CharField(required=False, widget=forms.SearchInput())
    agree = forms.BooleanField(required=False)


def test_filter_widgets_drawn_in_python_are_django_templates_own_markup():
    data = {"q": '"quoted"', "status": "paid", "grouped": "g", "day": "2026-12-04", "count": "3"}
    for given in (None, data):
        ours, djangos = _Filter(data=given), _Filter(data=given, renderer=DjangoTemplates())
        for field in ours:
            assert field.as_widget() == djangos[field.name].as_widget(), field.name
