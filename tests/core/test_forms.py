from __future__ import annotations

from django import forms

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
