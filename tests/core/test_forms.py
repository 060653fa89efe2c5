from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.forms.renderers import DjangoTemplates

from core.forms import BootstrapFormMixin, FilterForm, choices_read
from garage.models import Branch
from tests.factories import BranchFactory, UserFactory


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


class _Choices(forms.Form):
    branch = forms.ModelChoiceField(queryset=None, empty_label="All branches")
    user = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.order_by("code")
        self.fields["user"].queryset = get_user_model().objects.filter(is_active=True)


@pytest.mark.django_db
def test_choices_read_in_one_query_draw_what_each_field_draws_alone(django_assert_num_queries):
    BranchFactory(code="B2", name_en="Olaya")
    BranchFactory(code="B1", name_en="Malaz")
    UserFactory(username="huda")
    UserFactory(username="gone", is_active=False)
    alone = _Choices()
    expected = (str(alone["branch"]), str(alone["user"]))
    form = _Choices()

    with django_assert_num_queries(1):
        choices_read([form.fields["branch"], form.fields["user"]])
    with django_assert_num_queries(0):
        drawn = (str(form["branch"]), str(form["user"]))

    assert drawn == expected
    assert "Malaz" in drawn[0] and "huda" in drawn[1] and "gone" not in drawn[1]


@pytest.mark.django_db
def test_a_field_whose_choices_were_read_accepts_and_refuses_as_before():
    branch = BranchFactory(code="B1")
    form = _Choices(data={"branch": str(branch.pk)})
    choices_read([form.fields["branch"], form.fields["user"]])
    refused = _Choices(data={"branch": str(branch.pk + 99)})
    choices_read([refused.fields["branch"], refused.fields["user"]])

    assert form.is_valid() and form.cleaned_data["branch"] == branch
    assert not refused.is_valid() and list(refused.errors) == ["branch"]
