from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.models import Report
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


class ReportForm(DsfrForm, forms.Form):
    """A visitor reports a mission to the portal's moderators (no account needed)."""

    reason = forms.ChoiceField(
        label=_("What is wrong with this mission?"),
        choices=[("", _("Choose a reason")), *Report.Reason.choices],
    )
    message = forms.CharField(
        label=_("Details (optional)"),
        help_text=_("Only the moderators read it."),
        max_length=Report._meta.get_field("message").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
