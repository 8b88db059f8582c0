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

# Widgets drawn as a fieldset of options, each in its own DSFR group.
CHOICE_WIDGETS = (forms.CheckboxSelectMultiple, forms.RadioSelect)
# Widgets DSFR draws without a class on the control itself.
BARE_WIDGETS = (forms.CheckboxInput, *CHOICE_WIDGETS)


def autocomplete(token: str, **attrs) -> dict:
    """Widget attributes that let browsers and password managers fill a field in."""
    return {"autocomplete": token, **attrs}


class DsfrBoundField(BoundField):
    @property
    def template_name(self):
        if self.field.template_name:
            return self.field.template_name
        widget = self.field.widget
        if isinstance(widget, CHOICE_WIDGETS):
            return "forms/dsfr/choices.html"
        if isinstance(widget, forms.CheckboxInput):
            return "forms/dsfr/checkbox.html"
        return "forms/dsfr/input.html"

    @property
    def dsfr_group(self) -> str:
        """The DSFR group class around the control; `<group>--error` marks an error."""
        widget = self.field.widget
        if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple)):
            return "fr-checkbox-group"
        if isinstance(widget, forms.RadioSelect):  # after: CheckboxSelectMultiple is one too
            return "fr-radio-group"
        if isinstance(widget, (forms.Select, forms.SelectMultiple)):
            return "fr-select-group"
        if isinstance(widget, forms.FileInput):
            return "fr-upload-group"
        return "fr-input-group"

    @property
    def dsfr_class(self) -> str:
        widget = self.field.widget
        if isinstance(widget, BARE_WIDGETS):
            return ""
        if isinstance(widget, (forms.Select, forms.SelectMultiple)):
            return "fr-select"
        if isinstance(widget, forms.FileInput):
            return "fr-upload"
        return "fr-input"

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
