"""Form styling shared by every app: Bootstrap classes on widgets, invalid fields marked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from django.forms.models import ModelChoiceIterator
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeString

from core.html import escaped, markup
from core.rows import rows_together


class BootstrapBoundField(BoundField):
    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors:
            # Extra attrs replace the widget's own class, so the Bootstrap class is kept here;
            # doing it server-side also covers fragments that htmx swaps in after page load.
            widget = widget or self.field.widget
            attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
        return attrs


class BootstrapFormMixin:
    """Gives every widget its Bootstrap class and marks fields with errors as invalid."""

    bound_field_class: type[BoundField] | None = BootstrapBoundField
    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = css


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html: True is a bare attribute, False none."""
    return "".join(
        f" {escaped(name)}" if value is True else f' {escaped(name)}="{escaped(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _option(option: dict[str, Any]) -> str:
    # The newline is the one that ends Django's select_option.html.
    return (
        f'<option value="{escaped(option["value"])}"{_attrs(option["attrs"])}>'
        f"{escaped(option['label'])}</option>\n"
    )


def _select(widget: dict[str, Any]) -> SafeString:
    """django/forms/widgets/select.html with its options; plain strings joined once, as a
    filter bar draws some thirty options on every list page."""
    parts = [f'<select name="{escaped(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{escaped(group_name)}">')
        parts.extend(f"\n  {_option(option)}" for option in choices)
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return SafeString("".join(parts))


def _input(widget: dict[str, Any]) -> SafeString:
    """django/forms/widgets/input.html."""
    value = widget["value"]
    return markup(
        '<input type="{}" name="{}"{}{}>',
        widget["type"],
        widget["name"],
        markup(' value="{}"', value) if value is not None else "",
        SafeString(_attrs(widget["attrs"])),
    )


class FilterWidgetRenderer(DjangoTemplates):
    """Django's widget templates for a select and the inputs, done in Python: a filter bar is on
    every list page, and through the template engine its six controls took milliseconds."""

    _drawn = {
        "django/forms/widgets/select.html": _select,
        "django/forms/widgets/text.html": _input,
        "django/forms/widgets/search.html": _input,
        "django/forms/widgets/date.html": _input,
        "django/forms/widgets/number.html": _input,
    }

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        draw = self._drawn.get(template_name)
        if draw is None:
            return super().render(template_name, context, request)
        return draw(context["widget"])


class FilterForm(BootstrapFormMixin, forms.Form):
    """Base form for django-filter FilterSets, so filter controls look like the other forms."""

    default_renderer = FilterWidgetRenderer()


class _ReadChoices(ModelChoiceIterator):
    """Offers the rows choices_read put in the field's queryset instead of querying again."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset._result_cache or ():
            yield self.choice(obj)


def choices_read(fields: list[Any]) -> None:
    """Read the choices of several select fields in one query (a filter bar has four); what the
    fields accept is unchanged, checked against their querysets as before."""
    querysets = [
        field.queryset
        for field in fields
        if isinstance(field, forms.ModelChoiceField) and field.queryset is not None
    ]
    assert len(querysets) == len(fields), "choices_read reads model choice fields"
    for field, rows in zip(fields, rows_together(querysets), strict=True):
        field.queryset._result_cache = rows
        field.iterator = _ReadChoices
        field.widget.choices = field.choices
