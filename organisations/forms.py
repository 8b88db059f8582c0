from django import forms
from django.utils.translation import gettext_lazy as _

from missions.models import Application, Mission

from .models import Organisation

MAX_TEXT = 10_000


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "type", "rna", "siret", "description", "address", "postal_code", "city",
                  "contact_email", "contact_phone"]  # fmt: skip
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def clean_description(self):
        value = self.cleaned_data["description"]
        if len(value) > MAX_TEXT:
            raise forms.ValidationError(_("At most %(n)d characters.") % {"n": MAX_TEXT})
        return value


class MissionForm(forms.ModelForm):
    class Meta:
        model = Mission
        fields = ["title", "description", "domain", "activity", "audience", "is_remote",
                  "address", "postal_code", "city", "start_date", "end_date", "is_recurring",
                  "schedule", "places", "waiting_list", "prerequisites", "minimum_age",
                  "sites"]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "prerequisites": forms.Textarea(attrs={"rows": 3}),
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
            "sites": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, organisation=None, **kwargs):
        from missions.services import allowed_sites

        super().__init__(*args, **kwargs)
        self.fields["sites"].required = False  # none chosen: the organisation's portal
        if organisation is not None:
            self.fields["sites"].queryset = allowed_sites(organisation)

    def clean_description(self):
        value = self.cleaned_data["description"]
        if len(value) > MAX_TEXT:
            raise forms.ValidationError(_("At most %(n)d characters.") % {"n": MAX_TEXT})
        return value

    def clean_start_date(self):
        from django.utils import timezone

        value = self.cleaned_data["start_date"]
        changed = "start_date" in self.changed_data
        if value and changed and value < timezone.localdate():
            raise forms.ValidationError(_("The start date is in the past."))
        return value


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))


class DecisionForm(forms.Form):
    ACTIONS = [("accept", _("Accept")), ("refuse", _("Refuse")), ("done", _("Came")),
               ("no_show", _("Did not come"))]  # fmt: skip
    action = forms.ChoiceField(choices=ACTIONS)
    applications = forms.ModelMultipleChoiceField(queryset=None)
    reason = forms.ChoiceField(
        choices=[("", "")] + list(Application.RefusalReason.choices),
        required=False,
    )
    text = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, mission=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["applications"].queryset = mission.applications.all()
