"""Every form drawn by the French State design system (DSFR 1.14), the same way.

`DsfrForm` is a mixin for any Django form (plain, model, auth): `{{ form }}` renders it
through portal/templates/forms/dsfr/, our versions of django-dsfr's field snippets. We keep
django-dsfr's structure but not its snippets: they need widget_tweaks, emit a deprecation
warning on every render, link a fieldset's errors to an id nothing carries, and drop the help
text from `aria-describedby` once there is an error.

What each field gets: the DSFR class on its control (`fr-input`, `fr-select`; checkboxes and
radios in their `fr-checkbox-group` / `fr-radio-group`), a visible `*` and the `required`
attribute when required, its help text as a DSFR hint, and, only when it has an error, the
group's error class and `<p class="fr-error-text" id="<id>_error">`, which the control names in
`aria-describedby` (with `aria-invalid`). signup.js draws a JSON error with the same markup.
"""

from django import forms
from django.forms.boundfield import BoundField

# How DSFR draws each kind of widget, first match wins (RadioSelect is a ChoiceWidget like
# CheckboxSelectMultiple, so the order matters): (widget classes, snippet, group, control class).
DRAWINGS = [
    (forms.CheckboxSelectMultiple, "choices.html", "fr-checkbox-group", ""),
    (forms.RadioSelect, "choices.html", "fr-radio-group", ""),
    (forms.CheckboxInput, "checkbox.html", "fr-checkbox-group", ""),
    ((forms.Select, forms.SelectMultiple), "input.html", "fr-select-group", "fr-select"),
    (forms.FileInput, "input.html", "fr-upload-group", "fr-upload"),
    (forms.Widget, "input.html", "fr-input-group", "fr-input"),
]


def autocomplete(token: str, **attrs) -> dict:
    """Widget attributes that let browsers and password managers fill a field in."""
    return {"autocomplete": token, **attrs}


class DsfrBoundField(BoundField):
    @property
    def drawing(self) -> tuple:
        return next(d for d in DRAWINGS if isinstance(self.field.widget, d[0]))

    @property
    def template_name(self):
        return self.field.template_name or f"forms/dsfr/{self.drawing[1]}"

    @property
    def dsfr_group(self) -> str:
        """The DSFR group class around the control; `<group>--error` marks an error."""
        return self.drawing[2]

    @property
    def dsfr_class(self) -> str:
        return self.drawing[3]

    @property
    def aria_describedby(self):
        # The hint sits inside the label (DSFR), so it is read already: only the error is named.
        if self.auto_id and not self.is_hidden and self.errors:
            return f"{self.auto_id}_error"
        return None

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        base = self.dsfr_class
        if base and not self.is_hidden:
            own = (widget or self.field.widget).attrs.get("class", "").split()
            given = attrs.get("class", "").split()
            error = [f"{base}--error"] if self.errors else []
            attrs["class"] = " ".join(dict.fromkeys([base, *error, *own, *given]))
        return attrs


class DsfrForm:
    """Mix in before the form class: `class ProfileForm(DsfrForm, forms.ModelForm)`."""

    template_name = "forms/dsfr/form.html"
    bound_field_class = DsfrBoundField

    def get_context(self):
        context = super().get_context()
        context["required_hint"] = any(f.field.required for f in self.visible_fields())
        return context
