from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import DsfrForm

from .models import Application


class ApplicationForm(DsfrForm, forms.Form):
    """What a volunteer writes when offering their help (optional)."""

    message = forms.CharField(
        label=_("A word for the organisation (optional)"),
        help_text=_("Your availability, why this mission, a question..."),
        max_length=Application._meta.get_field("message").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
