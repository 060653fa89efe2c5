"""Form styling shared by every app: Bootstrap classes on widgets, invalid fields marked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField


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


class FilterForm(BootstrapFormMixin, forms.Form):
    """Base form for django-filter FilterSets, so filter controls look like the other forms."""
