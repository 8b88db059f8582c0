"""What a volunteer posts about their applications: why they cancel, whether it happened.

The templates draw these controls themselves (one cancel form per application on the same
page needs its own ids); the forms only read and bound what comes back.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from missions.models import Application


class CancelForm(forms.Form):
    cancel_reason = forms.ChoiceField(
        label=_("Why are you cancelling?"),
        choices=[("", "")] + Application.CancelReason.choices,
        required=False,
    )
    reason = forms.CharField(
        label=_("A word for the association (optional)"), max_length=1000, required=False
    )


class AttendanceForm(forms.Form):
    ANSWERS = [("yes", _("Yes, I took part")), ("no", _("No, it did not happen for me"))]

    happened = forms.TypedChoiceField(
        label=_("Did the mission happen?"),
        choices=ANSWERS,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Answer yes or no.")},
    )
    comment = forms.CharField(
        label=_("A comment for the association (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
