from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from moderation.models import Report
from portal.forms import DsfrForm

from .models import Application, Mission
from .services import slot_label


class SlotChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, slot):
        if slot.places_left:
            left = ngettext("%(n)d place left", "%(n)d places left", slot.places_left)
            return f"{slot_label(slot)} · {left % {'n': slot.places_left}}"
        return f"{slot_label(slot)} · {_('full: waiting list')}"


class ApplicationForm(DsfrForm, forms.Form):
    """What a volunteer writes when offering their help (optional), and for a mission with
    slots, which of its coming slots they choose (at least one)."""

    slots = SlotChoiceField(
        label=_("Your slots"),
        help_text=_("Tick each slot you can come to."),
        queryset=None,
        error_messages={"required": _("Choose at least one slot.")},
    )
    message = forms.CharField(
        label=_("A word for the organisation (optional)"),
        help_text=_("Your availability, why this mission, a question..."),
        max_length=Application._meta.get_field("message").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, mission: Mission, **kwargs):
        super().__init__(*args, **kwargs)
        if mission.slots.exists():
            self.fields["slots"].queryset = mission.slots.upcoming().with_counts()
        else:
            del self.fields["slots"]


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
